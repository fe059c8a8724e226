//! Latency histograms and sequence sets.

/// Log-linear buckets of microseconds: exact below 64 µs, then 32 buckets per
/// power of two (≤ 3 % error), up to about 2^40 µs. 9 KiB per histogram, so
/// every client keeps its own and they are merged at the end.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

const LINEAR: u64 = 64;
const SUB: u64 = 32;
const TOP_EXP: u64 = 40;
const BUCKETS: usize = (LINEAR + (TOP_EXP - 5) * SUB) as usize;

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, max: 0 }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = u64::from(63 - v.leading_zeros()).min(TOP_EXP);
    let mantissa = (v >> (exp - 5)).min(2 * SUB - 1);
    ((LINEAR + (exp - 6) * SUB + (mantissa - SUB)) as usize).min(BUCKETS - 1)
}

/// The middle of a bucket.
fn value(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let exp = (i - LINEAR) / SUB + 6;
    let mantissa = (i - LINEAR) % SUB + SUB;
    let width = 1u64 << (exp - 5);
    (mantissa << (exp - 5)) + width / 2
}

impl Histogram {
    pub fn record(&mut self, micros: u64) {
        self.counts[index(micros)] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0–1), in µs; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        if rank == self.total {
            return self.max;
        }
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value(i).min(self.max);
            }
        }
        self.max
    }
}

/// A set of sequence numbers above a base, as bits.
#[derive(Debug, Clone, Default)]
pub struct SeqSet {
    base: i64,
    bits: Vec<u64>,
    len: u64,
}

impl SeqSet {
    /// Holds sequence numbers greater than `base`.
    pub fn above(base: i64) -> SeqSet {
        SeqSet { base, bits: Vec::new(), len: 0 }
    }

    /// False if `seq` was already in (or is at or below the base).
    pub fn insert(&mut self, seq: i64) -> bool {
        let Some(i) = self.offset(seq) else { return false };
        let (word, bit) = (i / 64, i % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let had = self.bits[word] & (1 << bit) != 0;
        self.bits[word] |= 1 << bit;
        if !had {
            self.len += 1;
        }
        !had
    }

    pub fn contains(&self, seq: i64) -> bool {
        self.offset(seq).is_some_and(|i| self.bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn offset(&self, seq: i64) -> Option<usize> {
        usize::try_from(seq - self.base - 1).ok()
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.bits.iter().enumerate().flat_map(move |(w, bits)| {
            (0..64).filter(move |b| bits & (1u64 << b) != 0).map(move |b| self.base + 1 + (w * 64 + b) as i64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_three_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 50_000.0), (0.99, 99_000.0), (0.999, 99_900.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.03, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.quantile(1.0), 100_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
        let mut small = Histogram::default();
        small.record(7);
        assert_eq!(small.quantile(0.99), 7);
        small.record(u64::MAX);
        assert_eq!(small.count(), 2);
    }

    #[test]
    fn a_seq_set_finds_repeats() {
        let mut s = SeqSet::above(10);
        assert!(!s.insert(10));
        assert!(s.insert(11));
        assert!(s.insert(200));
        assert!(!s.insert(200));
        assert!(s.contains(11) && s.contains(200) && !s.contains(12));
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![11, 200]);
    }
}
