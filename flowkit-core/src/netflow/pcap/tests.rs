//! Tests of capture reading: frames of every link type, the window against bytes held whole,
//! packet numbering and the errors of cut or corrupt captures.

use super::frame::{udp_in_frame, Frame};
use super::window::{MAX_RECORD, WINDOW};
use super::{CaptureReader, CaptureStats};
use std::net::{Ipv6Addr, SocketAddr};

fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ];
    p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    let ulen = 8 + payload.len();
    p.extend_from_slice(&[0x08, 0x01, 0x08, 0x02, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    p.extend_from_slice(payload);
    p
}

fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
    let ulen = 8 + payload.len();
    // Hop-by-hop extension header before UDP.
    let plen = 8 + ulen;
    let mut p = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 0, 64];
    p.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    p.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
    p.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
    p.extend_from_slice(&[0x08, 0x01, 0x08, 0x02, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    p.extend_from_slice(payload);
    p
}

fn payload_of(linktype: u32, frame: &[u8]) -> Option<(SocketAddr, Vec<u8>)> {
    match udp_in_frame(linktype, frame) {
        Frame::Udp { src, payload, .. } => Some((src, frame[payload.0..payload.1].to_vec())),
        _ => None,
    }
}

#[test]
fn every_link_type_reaches_the_udp_payload() {
    let ip4 = ipv4_udp(b"hello");
    let ip6 = ipv6_udp(b"world");
    let mut eth = vec![0u8; 12];
    eth.extend_from_slice(&[0x81, 0x00, 0, 7, 0x88, 0xA8 - 0x88 + 0x81, 0, 9]);
    // Two tags: 802.1Q then 802.1Q again (0x8100), then IPv4.
    eth[16] = 0x81;
    eth[17] = 0x00;
    eth.extend_from_slice(&[0x08, 0x00]);
    eth.extend_from_slice(&ip4);
    eth.extend_from_slice(&[0, 0, 0, 0]); // Ethernet padding is ignored
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x86, 0xDD]);
    sll.extend_from_slice(&ip6);
    let mut sll2 = vec![0x08, 0x00];
    sll2.extend_from_slice(&[0u8; 18]);
    sll2.extend_from_slice(&ip4);
    let mut null = vec![2, 0, 0, 0];
    null.extend_from_slice(&ip4);
    let v4: SocketAddr = "10.0.0.1:2049".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::1]:2049".parse().unwrap();
    assert_eq!(payload_of(1, &eth), Some((v4, b"hello".to_vec())));
    assert_eq!(payload_of(113, &sll), Some((v6, b"world".to_vec())));
    assert_eq!(payload_of(276, &sll2), Some((v4, b"hello".to_vec())));
    assert_eq!(payload_of(0, &null), Some((v4, b"hello".to_vec())));
    assert_eq!(payload_of(108, &null), Some((v4, b"hello".to_vec())));
    assert_eq!(payload_of(101, &ip6), Some((v6, b"world".to_vec())));
    assert_eq!(payload_of(228, &ip4), Some((v4, b"hello".to_vec())));
}

#[test]
fn non_udp_fragments_and_cut_frames_are_told_apart() {
    let mut tcp = ipv4_udp(b"x");
    tcp[9] = 6;
    assert_eq!(udp_in_frame(101, &tcp), Frame::NotUdp { protocol: 6 });
    let mut frag = ipv4_udp(b"x");
    frag[6] = 0x20; // more fragments
    assert_eq!(udp_in_frame(101, &frag), Frame::Fragment);
    let full = ipv4_udp(b"a longer payload");
    assert_eq!(udp_in_frame(101, &full[..30]), Frame::Truncated);
    assert_eq!(udp_in_frame(101, &[0x45]), Frame::Undecodable);
    assert_eq!(udp_in_frame(147, &full), Frame::Undecodable);
    for cut in 0..full.len() {
        let _ = udp_in_frame(1, &full[..cut]);
        let _ = udp_in_frame(113, &full[..cut]);
    }
}

/// Builds a little-endian microsecond pcap of raw-IP frames.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0];
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&101u32.to_le_bytes());
    for (i, fr) in frames.iter().enumerate() {
        f.extend_from_slice(&(1_289_311_200 + i as u32).to_le_bytes());
        f.extend_from_slice(&250_000u32.to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(fr);
    }
    f
}

/// A capture's datagrams (packet number, time, payload), the error that ended it, its counts.
type ReadAll = (Vec<(u64, i64, Vec<u8>)>, Option<String>, CaptureStats);

/// Every datagram of `r`, with its packet number and time, and the error that ended it.
fn read_all(mut r: CaptureReader) -> ReadAll {
    let mut got = Vec::new();
    loop {
        match r.next_datagram() {
            Ok(Some(d)) => got.push((d.packet, d.ts_ms, d.payload.to_vec())),
            Ok(None) => return (got, None, r.stats),
            Err(e) => return (got, Some(e.to_string()), r.stats),
        }
    }
}

fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.pcap");
    std::fs::write(&p, bytes).unwrap();
    (d, p)
}

/// A file read through its window gives what the same bytes give held whole, across many
/// refills, with packets of every size up to 64 KiB straddling the window's ends.
#[test]
fn a_capture_read_through_the_window_reads_as_held_whole() {
    let frames: Vec<Vec<u8>> = (0..400u32)
        .map(|i| ipv4_udp(&vec![i as u8; (i as usize * 7919) % 65_000]))
        .collect();
    let bytes = pcap(&frames);
    assert!(bytes.len() > 8 * WINDOW);
    let (_d, p) = file_with(&bytes);
    let whole = read_all(CaptureReader::from_bytes("c", bytes.clone()).unwrap());
    let windowed = read_all(CaptureReader::open(&p).unwrap());
    assert_eq!(whole.0.len(), 400);
    assert_eq!(windowed, whole);
    // Cut inside the last packet: the same error, with the same byte offset, either way.
    let cut = &bytes[..bytes.len() - 10];
    let (_d2, p2) = file_with(cut);
    let whole = read_all(CaptureReader::from_bytes("c", cut.to_vec()).unwrap());
    let windowed = read_all(CaptureReader::open(&p2).unwrap());
    assert_eq!(windowed.0, whole.0);
    let (a, b) = (whole.1.unwrap(), windowed.1.unwrap());
    assert!(
        a.contains("packet 400 (byte ") && a.contains("ends in the middle"),
        "{a}"
    );
    assert_eq!(a.split(':').nth(1), b.split(':').nth(1), "{a} / {b}");
}

/// A record longer than the window is read by growing it; one whose length field asks for
/// more than any capture holds is reported as corrupt, with its offset, not read.
#[test]
fn long_records_grow_the_window_and_absurd_ones_are_corrupt() {
    let big = vec![0x45; 3 * WINDOW]; // a 3 MiB frame: read, counted, not UDP
    let bytes = pcap(&[ipv4_udp(b"before"), big, ipv4_udp(b"after")]);
    let (_d, p) = file_with(&bytes);
    let (got, err, stats) = read_all(CaptureReader::open(&p).unwrap());
    assert_eq!(err, None);
    let payloads: Vec<&[u8]> = got.iter().map(|g| &g.2[..]).collect();
    assert_eq!(payloads, [&b"before"[..], b"after"]);
    assert_eq!((stats.packets, stats.udp), (3, 2));

    // Record 2's length field corrupted to 4 GiB: in a file that ends first, the capture ends
    // in the middle of it; in a file longer than MAX_RECORD, it is too long to be a packet.
    let second = 24 + 16 + 31;
    for (tail, what) in [
        (4 * WINDOW, "capture ends in the middle of this packet"),
        (MAX_RECORD + WINDOW, "longer than"),
    ] {
        let mut bytes = pcap(&[ipv4_udp(b"one"), ipv4_udp(b"two"), vec![0; tail]]);
        bytes[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let (_d, p) = file_with(&bytes);
        let (got, err, _) = read_all(CaptureReader::open(&p).unwrap());
        assert_eq!(got.len(), 1);
        let err = err.unwrap();
        assert!(err.contains(&format!("packet 2 (byte {second})")), "{err}");
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn pcap_numbers_packets_and_reports_a_cut_file() {
    let mut tcp = ipv4_udp(b"x");
    tcp[9] = 6;
    let bytes = pcap(&[ipv4_udp(b"one"), tcp, ipv4_udp(b"three")]);
    let mut r = CaptureReader::from_bytes("t.pcap", bytes.clone()).unwrap();
    let d = r.next_datagram().unwrap().unwrap();
    assert_eq!(
        (d.packet, d.ts_ms, d.payload),
        (1, 1_289_311_200_250, &b"one"[..])
    );
    let d = r.next_datagram().unwrap().unwrap();
    assert_eq!((d.packet, d.payload), (3, &b"three"[..]));
    assert!(r.next_datagram().unwrap().is_none());
    assert_eq!(r.stats.not_udp, 1);

    let mut r = CaptureReader::from_bytes("t.pcap", bytes[..bytes.len() - 3].to_vec()).unwrap();
    assert_eq!(r.next_datagram().unwrap().unwrap().packet, 1);
    let err = r.next_datagram().unwrap_err().to_string();
    assert!(err.contains("t.pcap: packet 3"), "{err}");
    assert!(r.next_datagram().unwrap().is_none());
    // Any cut point gives packets, then at most one error, never a panic.
    for cut in 0..bytes.len() {
        if let Ok(mut r) = CaptureReader::from_bytes("t", bytes[..cut].to_vec()) {
            while let Ok(Some(_)) = r.next_datagram() {}
        }
    }
    assert!(CaptureReader::from_bytes("t", b"not a capture at all".to_vec()).is_err());
}
