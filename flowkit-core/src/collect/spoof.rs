//! Forwarding a datagram with the exporter's source address and port kept (flow-fanout
//! `--spoof`, what samplicator's `-S` does): an IPv4 raw socket (`IPPROTO_RAW`, so the IP
//! header is ours) sends an IPv4 + UDP header built here in front of the datagram. Needs
//! `CAP_NET_RAW`; IPv4 only (an IPv6 exporter's datagrams are relayed from the relay's own
//! address). The kernel fills in the IP header's checksum and identification; it does not
//! fragment such packets, so a datagram above the path MTU fails (and is counted).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

/// A raw IPv4 socket that sends UDP datagrams with any source address and port.
pub struct SpoofSender {
    socket: socket2::Socket,
    packet: Vec<u8>,
}

/// Length of the IPv4 header written (no options).
const IP_HEADER: usize = 20;
/// Length of the UDP header.
const UDP_HEADER: usize = 8;

impl SpoofSender {
    /// Opens the raw socket; without `CAP_NET_RAW` the error says what is needed.
    pub fn open() -> io::Result<SpoofSender> {
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(libc::IPPROTO_RAW)),
        )
        .map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => io::Error::new(
                e.kind(),
                format!(
                    "keeping the exporter's source address needs a raw socket, which needs \
                     CAP_NET_RAW (run as root, or `setcap cap_net_raw+ep flow-fanout`): {e}"
                ),
            ),
            _ => e,
        })?;
        socket.set_nonblocking(true)?;
        Ok(SpoofSender {
            socket,
            packet: Vec::with_capacity(65_536),
        })
    }

    /// Sends `payload` to `to` as a UDP datagram from `from`.
    pub fn send(&mut self, from: SocketAddrV4, to: SocketAddrV4, payload: &[u8]) -> io::Result<()> {
        let len = IP_HEADER + UDP_HEADER + payload.len();
        let total = u16::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "datagram too large"))?;
        build_packet(&mut self.packet, from, to, payload, total);
        let dest = socket2::SockAddr::from(SocketAddrV4::new(*to.ip(), 0));
        self.socket.send_to(&self.packet, &dest).map(|_| ())
    }
}

/// Writes the IPv4 header, the UDP header (with its checksum) and `payload` into `out`.
fn build_packet(
    out: &mut Vec<u8>,
    from: SocketAddrV4,
    to: SocketAddrV4,
    payload: &[u8],
    total: u16,
) {
    out.clear();
    // IPv4: version 4, 5 words; ToS 0; total length; id 0 and checksum 0 (the kernel fills
    // both in); no fragment flags; TTL 64; protocol UDP.
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    out.extend_from_slice(&from.ip().octets());
    out.extend_from_slice(&to.ip().octets());
    let udp_len = (UDP_HEADER + payload.len()) as u16;
    out.extend_from_slice(&from.port().to_be_bytes());
    out.extend_from_slice(&to.port().to_be_bytes());
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    let sum = udp_checksum(*from.ip(), *to.ip(), &out[IP_HEADER..]);
    out[IP_HEADER + 6..IP_HEADER + 8].copy_from_slice(&sum.to_be_bytes());
}

/// The UDP checksum of `udp` (header with a zero checksum, then the payload) over the IPv4
/// pseudo-header (RFC 768); 0 is sent as 0xffff.
fn udp_checksum(src: Ipv4Addr, dst: Ipv4Addr, udp: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = match pair {
                [a, b] => u16::from_be_bytes([*a, *b]),
                [a] => u16::from_be_bytes([*a, 0]),
                _ => 0,
            };
            sum += u32::from(word);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&[0, 17]);
    add(&(udp.len() as u16).to_be_bytes());
    add(udp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    match !(sum as u16) {
        0 => 0xffff,
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071's example words (0x0001 f203 f4f5 f6f7 sum to 0xddf2 with carries folded),
    /// here as a UDP datagram over a zero pseudo-header part: the checksum is its complement.
    #[test]
    fn checksum_folds_carries_and_complements() {
        // Pseudo-header of 0.0.0.0 -> 0.0.0.0 adds 17 (protocol) and the length (8).
        let udp = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let want = !(0xddf2u16 + 17 + 8);
        assert_eq!(
            udp_checksum(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, &udp),
            want
        );
    }

    #[test]
    fn packet_carries_both_addresses_and_ports() {
        let mut p = Vec::new();
        let from = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 7), 40000);
        let to = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 2055);
        build_packet(&mut p, from, to, b"abc", 31);
        assert_eq!(p.len(), 31);
        assert_eq!(&p[12..16], &[192, 0, 2, 7]);
        assert_eq!(&p[16..20], &[198, 51, 100, 1]);
        assert_eq!(u16::from_be_bytes([p[20], p[21]]), 40000);
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 2055);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 11);
        assert_eq!(&p[28..], b"abc");
        // A receiver's check: the checksum over the pseudo-header and the datagram is 0.
        let mut check = p[20..].to_vec();
        let got = u16::from_be_bytes([check[6], check[7]]);
        check[6] = 0;
        check[7] = 0;
        assert_eq!(udp_checksum(*from.ip(), *to.ip(), &check), got);
    }
}
