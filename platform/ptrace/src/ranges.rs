//! A set of address ranges, kept sorted, disjoint and merged.

/// Half-open `[start, end)` ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet(Vec<(u64, u64)>);

impl RangeSet {
    /// Adds `[start, end)`.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut s, mut e) = (start, end);
        self.0.retain(|&(rs, re)| {
            if re < s || rs > e {
                return true;
            }
            s = s.min(rs);
            e = e.max(re);
            false
        });
        let at = self.0.partition_point(|&(rs, _)| rs < s);
        self.0.insert(at, (s, e));
    }

    /// Removes `[start, end)`.
    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &(rs, re) in &self.0 {
            if re <= start || rs >= end {
                out.push((rs, re));
                continue;
            }
            if rs < start {
                out.push((rs, start));
            }
            if re > end {
                out.push((end, re));
            }
        }
        self.0 = out;
    }

    /// Whether any address of `[start, end)` is in the set.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        let at = self.0.partition_point(|&(_, re)| re <= start);
        self.0.get(at).is_some_and(|&(rs, _)| rs < end)
    }

    /// Whether every address of `[start, end)` is in the set.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let at = self.0.partition_point(|&(_, re)| re <= start);
        self.0
            .get(at)
            .is_some_and(|&(rs, re)| rs <= start && re >= end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_merges_and_remove_splits() {
        let mut r = RangeSet::default();
        r.insert(10, 20);
        r.insert(30, 40);
        r.insert(20, 30);
        assert_eq!(r.0, vec![(10, 40)]);
        r.remove(15, 25);
        assert_eq!(r.0, vec![(10, 15), (25, 40)]);
        assert!(r.covers(25, 40));
        assert!(!r.covers(10, 20));
        assert!(r.overlaps(14, 16));
        assert!(!r.overlaps(15, 25));
        assert!(!r.overlaps(40, 50));
        r.remove(0, 100);
        assert!(!r.overlaps(0, 100));
    }
}
