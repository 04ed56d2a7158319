//! Column-oriented blocks of flows: the unit that archives store, pipes carry and filters scan.
//!
//! A [`FlowBlock`] borrows its columns (from an mmap'd archive or a read buffer) so scanning
//! costs no copy; a [`FlowBlockBuf`] owns them and is what decoders and filters fill.
//! Each field is one contiguous array, so a filter touches only the fields it tests.

use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Calls `$mac!` with the list of fixed-width columns `(Variant, id, field, type)` and the
/// list of address columns `(Variant, id, field)`. The single place the schema is written.
#[macro_export]
macro_rules! with_flow_columns {
    ($mac:ident) => {
        $mac! {
            scalars: [
                (StartMs, 0, start_ms, i64),
                (EndMs, 1, end_ms, i64),
                (SrcPort, 4, src_port, u16),
                (DstPort, 5, dst_port, u16),
                (Protocol, 6, protocol, u8),
                (TcpFlags, 7, tcp_flags, u8),
                (Tos, 8, tos, u8),
                (Packets, 9, packets, u64),
                (Octets, 10, octets, u64),
                (InputIf, 11, input_if, u32),
                (OutputIf, 12, output_if, u32),
                (SrcAs, 13, src_as, u32),
                (DstAs, 14, dst_as, u32),
                (SrcMask, 15, src_mask, u8),
                (DstMask, 16, dst_mask, u8),
                (EngineType, 19, engine_type, u8),
                (EngineId, 20, engine_id, u8),
                (SamplingInterval, 21, sampling_interval, u32),
                (SrcTag, 22, src_tag, u32),
                (DstTag, 23, dst_tag, u32),
                (RevPackets, 24, rev_packets, u64),
                (RevOctets, 25, rev_octets, u64),
                (XlateSrcPort, 28, xlate_src_port, u16),
                (XlateDstPort, 29, xlate_dst_port, u16),
                (FlowId, 30, flow_id, u64),
                (SrcVlan, 31, src_vlan, u16),
                (DstVlan, 32, dst_vlan, u16),
                (EndReason, 33, end_reason, u8),
                (SrcMac, 34, src_mac, u64),
                (DstMac, 35, dst_mac, u64),
                (MplsLabel1, 36, mpls_label1, u32),
                (MplsLabel2, 37, mpls_label2, u32),
                (MplsLabel3, 38, mpls_label3, u32),
                (AppId, 39, app_id, u64),
            ],
            addrs: [
                (SrcAddr, 2, src_addr),
                (DstAddr, 3, dst_addr),
                (NextHop, 17, next_hop),
                (Exporter, 18, exporter),
                (XlateSrcAddr, 26, xlate_src_addr),
                (XlateDstAddr, 27, xlate_dst_addr),
            ]
        }
    };
}

/// Column ids are below this: a [`ColumnSet`] is a bit per id of one `u64` (ids 0..26 were
/// the first schema; the rest came with NAT, MAC, VLAN and end-reason columns).
pub const COLUMN_ID_LIMIT: usize = 64;

/// A set of columns, e.g. those a filter reads, so a scan checks and touches only those.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ColumnSet(u64);

impl ColumnSet {
    /// No column.
    pub const EMPTY: ColumnSet = ColumnSet(0);

    /// The set holding `ids`.
    pub fn of(ids: &[ColumnId]) -> ColumnSet {
        ids.iter().fold(ColumnSet::EMPTY, |s, &c| s.with(c))
    }

    /// This set and `id`.
    pub const fn with(self, id: ColumnId) -> ColumnSet {
        ColumnSet(self.0 | 1u64 << id as u16)
    }

    /// True when `id` is in the set.
    pub const fn contains(self, id: ColumnId) -> bool {
        self.0 & (1u64 << id as u16) != 0
    }

    /// Both sets together.
    pub const fn union(self, other: ColumnSet) -> ColumnSet {
        ColumnSet(self.0 | other.0)
    }

    /// True when every column of `other` is in this set.
    pub const fn covers(self, other: ColumnSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The columns, in id order.
    pub fn iter(self) -> impl Iterator<Item = ColumnId> {
        ColumnId::ALL
            .iter()
            .copied()
            .filter(move |&c| self.contains(c))
    }
}

/// The indices of the `true` entries. Eight entries are tested at once, so a sparse
/// selection (a narrow filter picks a few flows of a block) costs little more than a pass.
pub fn selected_rows(selected: &[bool]) -> Vec<u32> {
    let mut rows = Vec::new();
    let (chunks, tail) = selected.as_chunks::<8>();
    for (c, chunk) in chunks.iter().enumerate() {
        if u64::from_ne_bytes(chunk.map(u8::from)) == 0 {
            continue;
        }
        let base = c * 8;
        rows.extend((0..8).filter(|&k| chunk[k]).map(|k| (base + k) as u32));
    }
    let base = chunks.len() * 8;
    rows.extend(
        (0..tail.len())
            .filter(|&k| tail[k])
            .map(|k| (base + k) as u32),
    );
    rows
}

/// A column of addresses: all-IPv4 blocks store 4 bytes a flow, others 16.
#[derive(Clone, Copy, Debug)]
pub enum AddrColumn<'a> {
    /// IPv4 addresses as host-order integers (`u32::from(Ipv4Addr)`).
    V4(&'a [u32]),
    /// IPv6 addresses in network byte order; IPv4 ones are stored IPv4-mapped.
    V6(&'a [[u8; 16]]),
}

impl<'a> AddrColumn<'a> {
    /// The addresses in `range`, as a view of the same column.
    pub fn slice(&self, range: std::ops::Range<usize>) -> AddrColumn<'a> {
        match *self {
            AddrColumn::V4(v) => AddrColumn::V4(&v[range]),
            AddrColumn::V6(v) => AddrColumn::V6(&v[range]),
        }
    }

    /// Number of addresses in the column.
    pub fn len(&self) -> usize {
        match self {
            AddrColumn::V4(v) => v.len(),
            AddrColumn::V6(v) => v.len(),
        }
    }

    /// True when the column holds no address.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when row `i` holds an IPv6 address (not an IPv4-mapped one).
    #[inline]
    pub fn is_v6(&self, i: usize) -> bool {
        match self {
            AddrColumn::V4(_) => false,
            AddrColumn::V6(v) => !is_v4_mapped(&v[i]),
        }
    }

    /// The address at row `i`; IPv4-mapped IPv6 addresses come back as IPv4.
    #[inline]
    pub fn get(&self, i: usize) -> IpAddr {
        match self {
            AddrColumn::V4(v) => IpAddr::V4(Ipv4Addr::from(v[i])),
            AddrColumn::V6(v) => v6_bytes_to_addr(v[i]),
        }
    }
}

/// True for the 16-byte form of an IPv4 address (`::ffff:a.b.c.d`).
#[inline]
pub fn is_v4_mapped(b: &[u8; 16]) -> bool {
    b[..10] == [0; 10] && b[10] == 0xff && b[11] == 0xff
}

/// Converts stored 16 bytes to an address, unmapping IPv4-mapped ones.
#[inline]
pub fn v6_bytes_to_addr(b: [u8; 16]) -> IpAddr {
    let a = Ipv6Addr::from(b);
    match a.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(a),
    }
}

/// Converts an address to the 16-byte stored form (IPv4 becomes IPv4-mapped).
#[inline]
pub fn addr_to_v6_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// An owned address column that stays 4 bytes a flow until the first IPv6 address arrives.
#[derive(Clone, Debug)]
pub enum AddrBuf {
    /// Only IPv4 so far.
    V4(Vec<u32>),
    /// At least one IPv6 address.
    V6(Vec<[u8; 16]>),
}

impl Default for AddrBuf {
    fn default() -> Self {
        AddrBuf::V4(Vec::new())
    }
}

impl AddrBuf {
    /// Appends one address, widening the column to IPv6 when needed.
    #[inline]
    pub fn push(&mut self, a: IpAddr) {
        match (self, a) {
            (AddrBuf::V4(v), IpAddr::V4(a4)) => v.push(u32::from(a4)),
            (AddrBuf::V6(v), a) => v.push(addr_to_v6_bytes(a)),
            (this @ AddrBuf::V4(_), a) => {
                this.widen();
                if let AddrBuf::V6(v) = this {
                    v.push(addr_to_v6_bytes(a));
                }
            }
        }
    }

    /// Appends row `i` of a borrowed column.
    #[inline]
    pub fn push_from(&mut self, col: &AddrColumn<'_>, i: usize) {
        match (&mut *self, col) {
            (AddrBuf::V4(v), AddrColumn::V4(c)) => v.push(c[i]),
            (AddrBuf::V6(v), AddrColumn::V6(c)) => v.push(c[i]),
            _ => self.push(col.get(i)),
        }
    }

    /// Appends rows `rows` of a borrowed column.
    pub fn extend_rows(&mut self, col: &AddrColumn<'_>, rows: &[u32]) {
        if let (AddrBuf::V4(v), AddrColumn::V6(c)) = (&mut *self, col) {
            // IPv4 rows of a wide column stay 4 bytes wide here.
            if rows.iter().all(|&i| is_v4_mapped(&c[i as usize])) {
                v.extend(rows.iter().map(|&i| {
                    let b = &c[i as usize];
                    u32::from_be_bytes([b[12], b[13], b[14], b[15]])
                }));
                return;
            }
        }
        match (&mut *self, col) {
            (AddrBuf::V4(v), AddrColumn::V4(c)) => v.extend(rows.iter().map(|&i| c[i as usize])),
            (AddrBuf::V6(v), AddrColumn::V6(c)) => v.extend(rows.iter().map(|&i| c[i as usize])),
            _ => rows.iter().for_each(|&i| self.push(col.get(i as usize))),
        }
    }

    /// Appends a whole borrowed column.
    pub fn extend_all(&mut self, col: &AddrColumn<'_>) {
        if let (AddrBuf::V4(v), AddrColumn::V6(c)) = (&mut *self, col) {
            // IPv4 rows of a wide column stay 4 bytes wide here.
            if c.iter().all(is_v4_mapped) {
                v.extend(
                    c.iter()
                        .map(|b| u32::from_be_bytes([b[12], b[13], b[14], b[15]])),
                );
                return;
            }
        }
        match (&mut *self, col) {
            (AddrBuf::V4(v), AddrColumn::V4(c)) => v.extend_from_slice(c),
            (AddrBuf::V6(v), AddrColumn::V6(c)) => v.extend_from_slice(c),
            _ => (0..col.len()).for_each(|i| self.push(col.get(i))),
        }
    }

    fn widen(&mut self) {
        if let AddrBuf::V4(v) = self {
            let wide = v
                .iter()
                .map(|&a| Ipv4Addr::from(a).to_ipv6_mapped().octets())
                .collect();
            *self = AddrBuf::V6(wide);
        }
    }

    /// A borrowed view of the column.
    pub fn view(&self) -> AddrColumn<'_> {
        match self {
            AddrBuf::V4(v) => AddrColumn::V4(v),
            AddrBuf::V6(v) => AddrColumn::V6(v),
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            AddrBuf::V4(v) => v.truncate(n),
            AddrBuf::V6(v) => v.truncate(n),
        }
    }

    fn reserve(&mut self, n: usize) {
        match self {
            AddrBuf::V4(v) => v.reserve(n),
            AddrBuf::V6(v) => v.reserve(n),
        }
    }

    fn clear(&mut self) {
        match self {
            AddrBuf::V4(v) => v.clear(), // keeps its allocation for the next block
            AddrBuf::V6(_) => *self = AddrBuf::V4(Vec::new()),
        }
    }
}

macro_rules! define_blocks {
    (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
     addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
        /// Identifies a column of the flow schema; the number is what archives store.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ColumnId {
            $(
                #[doc = concat!("The `", stringify!($sf), "` column.")]
                $sv = $sid,
            )*
            $(
                #[doc = concat!("The `", stringify!($af), "` column.")]
                $av = $aid,
            )*
        }

        impl ColumnId {
            /// Every column of the schema, in id order of declaration.
            pub const ALL: &'static [ColumnId] = &[$(ColumnId::$sv,)* $(ColumnId::$av,)*];

            /// The column with this stored id, if the schema knows it.
            pub fn from_u16(id: u16) -> Option<ColumnId> {
                match id {
                    $($sid => Some(ColumnId::$sv),)*
                    $($aid => Some(ColumnId::$av),)*
                    _ => None,
                }
            }

            /// The field name, as in [`FlowRecord`].
            pub fn name(self) -> &'static str {
                match self {
                    $(ColumnId::$sv => stringify!($sf),)*
                    $(ColumnId::$av => stringify!($af),)*
                }
            }

            /// Bytes per value for fixed-width columns; `None` for address columns.
            pub fn width(self) -> Option<usize> {
                match self {
                    $(ColumnId::$sv => Some(std::mem::size_of::<$st>()),)*
                    $(ColumnId::$av => None,)*
                }
            }
        }

        impl ColumnSet {
            /// Every column of the schema.
            pub const ALL: ColumnSet = ColumnSet(0 $(| 1u64 << $sid)* $(| 1u64 << $aid)*);
        }

        // Every id fits the set's bits (a wider schema needs a wider `ColumnSet`).
        const _: () = {
            $(assert!(($sid as usize) < COLUMN_ID_LIMIT);)*
            $(assert!(($aid as usize) < COLUMN_ID_LIMIT);)*
        };

        impl ColumnSet {
        }

        /// A borrowed, column-oriented block of flows.
        ///
        /// A *partial* block (from a scan that asked for some columns only) has the right `len`
        /// but empty slices for the columns it lacks, so reading one of those is a loud bug
        /// (an index panic), never a silent read of unchecked data.
        #[derive(Clone, Copy, Debug)]
        pub struct FlowBlock<'a> {
            /// Number of flows in the block.
            pub len: usize,
            $(
                #[doc = concat!("`", stringify!($sf), "` of every flow.")]
                pub $sf: &'a [$st],
            )*
            $(
                #[doc = concat!("`", stringify!($af), "` of every flow.")]
                pub $af: AddrColumn<'a>,
            )*
        }

        /// An owned, column-oriented block of flows, filled row by row.
        #[derive(Clone, Debug, Default)]
        pub struct FlowBlockBuf {
            $(
                #[doc = concat!("`", stringify!($sf), "` of every flow.")]
                pub $sf: Vec<$st>,
            )*
            $(
                #[doc = concat!("`", stringify!($af), "` of every flow.")]
                pub $af: AddrBuf,
            )*
        }

        impl<'a> FlowBlock<'a> {
            /// A partial block of `len` flows with none of its columns at hand (a block that is
            /// passed on by reference without being read).
            pub fn without_columns(len: usize) -> FlowBlock<'a> {
                FlowBlock {
                    len,
                    $($sf: &[],)*
                    $($af: AddrColumn::V4(&[]),)*
                }
            }

            /// Materialises row `i` as a record.
            pub fn get(&self, i: usize) -> FlowRecord {
                FlowRecord {
                    $($sf: self.$sf[i],)*
                    $($af: self.$af.get(i),)*
                }
            }

            /// True when every column has exactly `len` values.
            pub fn is_consistent(&self) -> bool {
                true $(&& self.$sf.len() == self.len)* $(&& self.$af.len() == self.len)*
            }

            /// The columns this view holds (all of them unless it is a partial block).
            pub fn columns(&self) -> ColumnSet {
                if self.len == 0 {
                    return ColumnSet::ALL;
                }
                let mut set = ColumnSet::EMPTY;
                $(if self.$sf.len() == self.len { set = set.with(ColumnId::$sv); })*
                $(if self.$af.len() == self.len { set = set.with(ColumnId::$av); })*
                set
            }

            /// The rows in `range`, as a view of the same columns (no copy); columns a partial
            /// block lacks stay empty.
            pub fn slice(&self, range: std::ops::Range<usize>) -> FlowBlock<'a> {
                FlowBlock {
                    len: range.len(),
                    $($sf: if self.$sf.len() == self.len { &self.$sf[range.clone()] } else { &[] },)*
                    $($af: if self.$af.len() == self.len {
                        self.$af.slice(range.clone())
                    } else {
                        AddrColumn::V4(&[])
                    },)*
                }
            }

            /// This block with only the columns in `keep` (the others empty), as a scan of
            /// those columns gives it.
            pub fn only(&self, keep: ColumnSet) -> FlowBlock<'a> {
                FlowBlock {
                    len: self.len,
                    $($sf: if keep.contains(ColumnId::$sv) { self.$sf } else { &[] },)*
                    $($af: if keep.contains(ColumnId::$av) { self.$af } else { AddrColumn::V4(&[]) },)*
                }
            }
        }

        impl FlowBlockBuf {
            /// Appends one record.
            pub fn push(&mut self, r: &FlowRecord) {
                $(self.$sf.push(r.$sf);)*
                $(self.$af.push(r.$af);)*
            }

            /// Appends row `i` of a borrowed block without materialising a record.
            #[inline]
            pub fn push_row(&mut self, b: &FlowBlock<'_>, i: usize) {
                $(self.$sf.push(b.$sf[i]);)*
                $(self.$af.push_from(&b.$af, i);)*
            }

            /// Appends the rows `rows` (ascending or not) of `b`, a column at a time; columns
            /// that `b` lacks (a partial block) stay empty.
            pub fn extend_rows(&mut self, b: &FlowBlock<'_>, rows: &[u32]) {
                $(
                    if b.$sf.len() == b.len {
                        let src = b.$sf;
                        self.$sf.extend(rows.iter().map(|&i| src[i as usize]));
                    }
                )*
                $(
                    if b.$af.len() == b.len {
                        self.$af.extend_rows(&b.$af, rows);
                    }
                )*
            }

            /// Appends every row of `b` (whole columns at once).
            pub fn extend_all(&mut self, b: &FlowBlock<'_>) {
                $(self.$sf.extend_from_slice(b.$sf);)*
                $(self.$af.extend_all(&b.$af);)*
            }

            /// Keeps the first `n` flows.
            pub fn truncate(&mut self, n: usize) {
                $(self.$sf.truncate(n);)*
                $(self.$af.truncate(n);)*
            }

            /// Removes every flow, keeping allocations where it can.
            pub fn clear(&mut self) {
                $(self.$sf.clear();)*
                $(self.$af.clear();)*
            }

            /// Makes room for at least `n` more flows in every column (IPv4 addresses while the
            /// address columns hold no IPv6 one), so a buffer filled a set at a time does not
            /// grow by copying.
            pub fn reserve(&mut self, n: usize) {
                $(self.$sf.reserve(n);)*
                $(self.$af.reserve(n);)*
            }

            /// A borrowed view of the block.
            pub fn view(&self) -> FlowBlock<'_> {
                FlowBlock {
                    len: self.start_ms.len(),
                    $($sf: &self.$sf,)*
                    $($af: self.$af.view(),)*
                }
            }

            /// A view of the `len` rows of the columns in `set` only (a partial block), for a
            /// buffer filled with those columns only (the others empty or ignored).
            pub fn view_columns(&self, len: usize, set: ColumnSet) -> FlowBlock<'_> {
                FlowBlock {
                    len,
                    $($sf: if set.contains(ColumnId::$sv) { &self.$sf[..len] } else { &[] },)*
                    $($af: if set.contains(ColumnId::$av) {
                        self.$af.view().slice(0..len)
                    } else {
                        AddrColumn::V4(&[])
                    },)*
                }
            }
        }
    };
}

with_flow_columns!(define_blocks);

impl FlowBlockBuf {
    /// Number of flows in the block.
    pub fn len(&self) -> usize {
        self.start_ms.len()
    }

    /// True when the block holds no flow.
    pub fn is_empty(&self) -> bool {
        self.start_ms.is_empty()
    }

    /// Builds a block from records.
    pub fn from_records<'r>(records: impl IntoIterator<Item = &'r FlowRecord>) -> Self {
        let mut b = FlowBlockBuf::default();
        for r in records {
            b.push(r);
        }
        b
    }

    /// Appends the rows of `b` whose entry in `selected` is true, in order.
    pub fn extend_selected(&mut self, b: &FlowBlock<'_>, selected: &[bool]) {
        let rows = selected_rows(selected);
        if rows.len() == b.len {
            self.extend_all(b);
        } else {
            self.extend_rows(b, &rows);
        }
    }
}

impl<'a> FlowBlock<'a> {
    /// Iterates the block's flows as records.
    pub fn records(&self) -> impl Iterator<Item = FlowRecord> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    /// Smallest start time and largest end time in the block, if it has flows.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let min = self.start_ms.iter().copied().min()?;
        let max = self.end_ms.iter().copied().max()?;
        Some((min, max.max(min)))
    }

    /// The address column `id` (source, destination, next hop, exporter), or `None` when `id`
    /// is a scalar column.
    pub fn addr_column(&self, id: ColumnId) -> Option<&AddrColumn<'a>> {
        macro_rules! pick {
            (scalars: [$($scalars:tt)*],
             addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
                match id {
                    $(ColumnId::$av => Some(&self.$af),)*
                    _ => None,
                }
            };
        }
        crate::with_flow_columns!(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_rows_are_the_true_entries_in_order() {
        // Lengths around the 8-entry step, densities from none to all (a fixed LCG, no seed
        // to chase).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 8192] {
            for per_256 in [0u64, 1, 32, 128, 255, 256] {
                let sel: Vec<bool> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        (x >> 56) < per_256
                    })
                    .collect();
                let want: Vec<u32> = (0..len as u32).filter(|&i| sel[i as usize]).collect();
                assert_eq!(selected_rows(&sel), want, "len {len}, {per_256}/256");
            }
        }
    }

    fn rec(i: u32, v6: bool) -> FlowRecord {
        FlowRecord {
            start_ms: 1_000 + i as i64,
            end_ms: 2_000 + i as i64,
            src_addr: if v6 {
                "2001:db8::1".parse().unwrap()
            } else {
                IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
            },
            dst_port: i as u16,
            packets: i as u64,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn rows_round_trip_through_columns() {
        let recs: Vec<_> = (0..10).map(|i| rec(i, i == 7)).collect();
        let b = FlowBlockBuf::from_records(&recs);
        assert!(matches!(b.src_addr, AddrBuf::V6(_)));
        let v = b.view();
        assert!(v.is_consistent());
        let back: Vec<_> = v.records().collect();
        assert_eq!(back, recs);
        assert_eq!(v.time_range(), Some((1_000, 2_009)));
    }

    #[test]
    fn slices_are_views_of_the_rows() {
        let recs: Vec<_> = (0..6).map(|i| rec(i, i == 4)).collect();
        let b = FlowBlockBuf::from_records(&recs);
        let v = b.view().slice(2..5);
        assert!(v.is_consistent());
        assert_eq!(v.records().collect::<Vec<_>>(), recs[2..5]);
    }

    #[test]
    fn selected_rows_are_copied_in_order() {
        let recs: Vec<_> = (0..5).map(|i| rec(i, false)).collect();
        let b = FlowBlockBuf::from_records(&recs);
        let mut out = FlowBlockBuf::default();
        out.extend_selected(&b.view(), &[false, true, false, true, true]);
        let got: Vec<_> = out.view().records().map(|r| r.dst_port).collect();
        assert_eq!(got, vec![1, 3, 4]);
    }
}
