//! Turning ordered permit/deny lines into sets of ranges, and testing values against them.
//!
//! Every primitive whose lines are tried in some order (last wins, first wins, longest prefix
//! wins) is a step function over its value domain. We build that function once by painting each
//! line's range in the order that makes the winning line paint last, then keep only the ranges
//! that end up permitted. Evaluation is then a range test per flow, with no list to walk.

use std::collections::BTreeMap;

/// A step function over `[0, max]`: each point is permitted, denied, or unset (→ default).
#[derive(Clone, Debug)]
pub(crate) struct Painter {
    max: u128,
    steps: BTreeMap<u128, Option<bool>>,
}

impl Painter {
    /// All of `[0, max]` unset.
    pub fn new(max: u128) -> Self {
        let mut steps = BTreeMap::new();
        steps.insert(0, None);
        Painter { max, steps }
    }

    fn state_at(&self, k: u128) -> Option<bool> {
        *self
            .steps
            .range(..=k)
            .next_back()
            .expect("0 is always a step")
            .1
    }

    /// Sets `[lo, hi]` (clipped to the domain) to `permit`, over whatever was there.
    pub fn paint(&mut self, lo: u128, hi: u128, permit: bool) {
        let hi = hi.min(self.max);
        if lo > hi {
            return;
        }
        let after = (hi < self.max).then(|| self.state_at(hi + 1));
        let inside: Vec<u128> = self.steps.range(lo..=hi).map(|(k, _)| *k).collect();
        for k in inside {
            self.steps.remove(&k);
        }
        self.steps.insert(lo, Some(permit));
        if let Some(a) = after {
            self.steps.insert(hi + 1, a);
        }
    }

    /// The permitted ranges, unset points taking `default`; sorted, disjoint, merged.
    pub fn permitted(&self, default: bool) -> Vec<(u128, u128)> {
        let mut out: Vec<(u128, u128)> = Vec::new();
        let mut it = self.steps.iter().peekable();
        while let Some((&start, state)) = it.next() {
            let end = it.peek().map_or(self.max, |(&next, _)| next - 1);
            if state.unwrap_or(default) {
                match out.last_mut() {
                    Some(last) if last.1 + 1 == start => last.1 = end,
                    _ => out.push((start, end)),
                }
            }
        }
        out
    }
}

/// The ranges of `[0, max]` where `value OP operand` holds, for an integer domain.
pub(crate) fn op_ranges(op: crate::filter::ast::Op, operand: u128, max: u128) -> Vec<(u128, u128)> {
    use crate::filter::ast::Op::*;
    let x = operand.min(max);
    let below = |end: Option<u128>| end.map(|e| (0, e));
    let above = |start: u128| (start <= max).then_some((start, max));
    let v: Vec<Option<(u128, u128)>> = match op {
        Lt => vec![below(operand.checked_sub(1).map(|e| e.min(max)))],
        Le => vec![below(Some(x))],
        Gt => vec![operand.checked_add(1).and_then(above)],
        Ge => vec![above(operand)],
        Eq => vec![(operand <= max).then_some((operand, operand))],
        Ne => vec![
            below(operand.checked_sub(1).map(|e| e.min(max))),
            operand.checked_add(1).and_then(above),
        ],
    };
    v.into_iter().flatten().collect()
}

/// A set of `u64` keys as disjoint sorted ranges, specialised for the common small cases.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RangeSet {
    /// Nothing.
    Empty,
    /// Everything.
    All,
    /// One range: `lo <= k <= lo + span`.
    One { lo: u64, span: u64 },
    /// Two ranges.
    Two {
        lo1: u64,
        span1: u64,
        lo2: u64,
        span2: u64,
    },
    /// More: binary search on the starts.
    Many { starts: Vec<u64>, ends: Vec<u64> },
}

impl RangeSet {
    /// Builds the set from sorted disjoint ranges of a domain `[0, max]`.
    pub fn from_ranges(ranges: &[(u128, u128)], max: u128) -> RangeSet {
        let r: Vec<(u64, u64)> = ranges.iter().map(|&(a, b)| (a as u64, b as u64)).collect();
        match r.as_slice() {
            [] => RangeSet::Empty,
            [(0, e)] if *e as u128 == max => RangeSet::All,
            [(a, b)] => RangeSet::One {
                lo: *a,
                span: b - a,
            },
            [(a, b), (c, d)] => RangeSet::Two {
                lo1: *a,
                span1: b - a,
                lo2: *c,
                span2: d - c,
            },
            _ => RangeSet::Many {
                starts: r.iter().map(|x| x.0).collect(),
                ends: r.iter().map(|x| x.1).collect(),
            },
        }
    }

    /// The set as sorted disjoint inclusive ranges of the domain `[0, max]`.
    pub fn ranges(&self, max: u64) -> Vec<(u64, u64)> {
        match self {
            RangeSet::Empty => Vec::new(),
            RangeSet::All => vec![(0, max)],
            RangeSet::One { lo, span } => vec![(*lo, lo + span)],
            RangeSet::Two {
                lo1,
                span1,
                lo2,
                span2,
            } => vec![(*lo1, lo1 + span1), (*lo2, lo2 + span2)],
            RangeSet::Many { starts, ends } => {
                starts.iter().copied().zip(ends.iter().copied()).collect()
            }
        }
    }

    /// Whether `k` is in the set.
    #[inline]
    pub fn contains(&self, k: u64) -> bool {
        match self {
            RangeSet::Empty => false,
            RangeSet::All => true,
            RangeSet::One { lo, span } => k.wrapping_sub(*lo) <= *span,
            RangeSet::Two {
                lo1,
                span1,
                lo2,
                span2,
            } => k.wrapping_sub(*lo1) <= *span1 || k.wrapping_sub(*lo2) <= *span2,
            RangeSet::Many { starts, ends } => {
                let i = starts.partition_point(|&s| s <= k);
                i > 0 && k <= ends[i - 1]
            }
        }
    }

    /// `mask[i] &= contains(key(col[i]))` for every row, in a loop the compiler can vectorise.
    #[inline]
    pub fn and_into<T: Copy>(&self, mask: &mut [bool], col: &[T], key: impl Fn(T) -> u64) {
        match self {
            RangeSet::Empty => mask.fill(false),
            RangeSet::All => {}
            RangeSet::One { lo, span } => {
                for (m, &v) in mask.iter_mut().zip(col) {
                    *m &= key(v).wrapping_sub(*lo) <= *span;
                }
            }
            RangeSet::Two {
                lo1,
                span1,
                lo2,
                span2,
            } => {
                for (m, &v) in mask.iter_mut().zip(col) {
                    let k = key(v);
                    *m &= (k.wrapping_sub(*lo1) <= *span1) | (k.wrapping_sub(*lo2) <= *span2);
                }
            }
            RangeSet::Many { .. } => {
                for (m, &v) in mask.iter_mut().zip(col) {
                    if *m {
                        *m = self.contains(key(v));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::ast::Op;

    #[test]
    fn painting_last_wins_and_defaults_fill_the_gaps() {
        let mut p = Painter::new(99);
        p.paint(10, 20, true);
        p.paint(15, 30, false);
        p.paint(40, 40, true);
        assert_eq!(p.permitted(false), vec![(10, 14), (40, 40)]);
        assert_eq!(p.permitted(true), vec![(0, 14), (31, 99)]);
        p.paint(0, 1000, true);
        assert_eq!(p.permitted(false), vec![(0, 99)]);
    }

    #[test]
    fn comparison_ranges() {
        assert_eq!(op_ranges(Op::Lt, 10, 100), vec![(0, 9)]);
        assert_eq!(op_ranges(Op::Lt, 0, 100), vec![]);
        assert_eq!(op_ranges(Op::Le, 200, 100), vec![(0, 100)]);
        assert_eq!(op_ranges(Op::Gt, 100, 100), vec![]);
        assert_eq!(op_ranges(Op::Ge, 100, 100), vec![(100, 100)]);
        assert_eq!(op_ranges(Op::Eq, 5, 100), vec![(5, 5)]);
        assert_eq!(op_ranges(Op::Ne, 5, 100), vec![(0, 4), (6, 100)]);
        assert_eq!(op_ranges(Op::Ne, 0, 100), vec![(1, 100)]);
    }

    #[test]
    fn range_sets_agree_with_their_ranges() {
        let cases: Vec<Vec<(u128, u128)>> = vec![
            vec![],
            vec![(0, 255)],
            vec![(3, 7)],
            vec![(0, 0), (255, 255)],
            vec![(1, 2), (5, 9), (20, 20), (200, 254)],
        ];
        for ranges in cases {
            let set = RangeSet::from_ranges(&ranges, 255);
            let col: Vec<u8> = (0..=255).collect();
            let mut mask = vec![true; 256];
            set.and_into(&mut mask, &col, u64::from);
            for v in 0..=255u8 {
                let want = ranges.iter().any(|&(a, b)| (a..=b).contains(&(v as u128)));
                assert_eq!(set.contains(v as u64), want, "{ranges:?} {v}");
                assert_eq!(mask[v as usize], want, "{ranges:?} {v}");
            }
        }
    }
}
