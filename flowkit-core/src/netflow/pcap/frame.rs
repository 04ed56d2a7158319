//! Finding the UDP datagram in a captured frame: the link-layer header (Ethernet and its VLAN
//! tags, Linux cooked SLL/SLL2, raw IP, BSD null/loopback), then IPv4 or IPv6, then UDP.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What a frame turned out to be; payload offsets are relative to the frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Frame {
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: (usize, usize),
    },
    /// An IP packet of another protocol (its number).
    NotUdp {
        protocol: u8,
    },
    Fragment,
    Truncated,
    Undecodable,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;

fn be16(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|x| u16::from_be_bytes([x[0], x[1]]))
}

/// Finds the UDP datagram in a link-layer frame.
pub(super) fn udp_in_frame(linktype: u32, f: &[u8]) -> Frame {
    let (ip_off, ethertype) = match linktype {
        // Ethernet, with any number of 802.1Q / 802.1ad / QinQ tags.
        1 => {
            let mut off = 12;
            let mut et = match be16(f, off) {
                Some(v) => v,
                None => return Frame::Undecodable,
            };
            while matches!(et, 0x8100 | 0x88A8 | 0x9100) {
                off += 4;
                et = match be16(f, off) {
                    Some(v) => v,
                    None => return Frame::Undecodable,
                };
            }
            (off + 2, Some(et))
        }
        // Linux cooked capture v1: protocol at bytes 14..16 of a 16-byte header.
        113 => (16, be16(f, 14)),
        // Linux cooked capture v2: protocol at bytes 0..2 of a 20-byte header.
        276 => (20, be16(f, 0)),
        // BSD null / OpenBSD loopback: a 4-byte address family; the IP version tells.
        0 | 108 => (4, None),
        // Raw IP (LINKTYPE_RAW, and DLT_RAW's historic 12 and 14), IPv4, IPv6.
        101 | 12 | 14 | 228 | 229 => (0, None),
        _ => return Frame::Undecodable,
    };
    let Some(ip) = f.get(ip_off..) else {
        return Frame::Undecodable;
    };
    let version = ip.first().map(|b| b >> 4);
    match (ethertype, version) {
        (Some(ETHERTYPE_IPV4), Some(4)) | (None, Some(4)) => ipv4(ip, ip_off),
        (Some(ETHERTYPE_IPV6), Some(6)) | (None, Some(6)) => ipv6(ip, ip_off),
        _ => Frame::Undecodable,
    }
}

fn ipv4(ip: &[u8], base: usize) -> Frame {
    if ip.len() < 20 {
        return Frame::Undecodable;
    }
    let ihl = (ip[0] & 0x0F) as usize * 4;
    let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
    if ihl < 20 || total < ihl {
        return Frame::Undecodable;
    }
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if frag & 0x3FFF != 0 {
        return Frame::Fragment;
    }
    if ip[9] != 17 {
        return Frame::NotUdp { protocol: ip[9] };
    }
    let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    // Ethernet may pad short frames: the IP total length bounds the datagram.
    let end = total.min(ip.len());
    if ihl > end {
        return Frame::Truncated;
    }
    udp(&ip[..end], ihl, base, src, dst, total > ip.len())
}

fn ipv6(ip: &[u8], base: usize) -> Frame {
    if ip.len() < 40 {
        return Frame::Undecodable;
    }
    let payload_len = u16::from_be_bytes([ip[4], ip[5]]) as usize;
    let src = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&ip[8..24]).expect("16"),
    ));
    let dst = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&ip[24..40]).expect("16"),
    ));
    let total = 40 + payload_len;
    let cut = total > ip.len();
    let ip = &ip[..total.min(ip.len())];
    let mut next = ip[6];
    let mut off = 40;
    // Walk extension headers to UDP.
    loop {
        match next {
            17 => return udp(ip, off, base, src, dst, cut),
            0 | 43 | 60 => {
                let Some(h) = ip.get(off..off + 2) else {
                    return Frame::Truncated;
                };
                next = h[0];
                off += (h[1] as usize + 1) * 8;
            }
            44 => return Frame::Fragment,
            _ => return Frame::NotUdp { protocol: next },
        }
    }
}

fn udp(ip: &[u8], off: usize, base: usize, src: IpAddr, dst: IpAddr, cut: bool) -> Frame {
    let Some(h) = ip.get(off..off + 8) else {
        return Frame::Truncated;
    };
    let sport = u16::from_be_bytes([h[0], h[1]]);
    let dport = u16::from_be_bytes([h[2], h[3]]);
    let ulen = u16::from_be_bytes([h[4], h[5]]) as usize;
    if ulen < 8 {
        return Frame::Undecodable;
    }
    let start = off + 8;
    let want_end = off + ulen;
    if want_end > ip.len() {
        return if cut {
            Frame::Truncated
        } else {
            Frame::Undecodable
        };
    }
    Frame::Udp {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        payload: (base + start, base + want_end),
    }
}
