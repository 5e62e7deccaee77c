//! How widely a job's runs vary, as the alert rules judge it: the robust standard
//! deviation of the *logarithm* of a figure, estimated with Rousseeuw and Croux's Qn.
//!
//! Why the logarithm: durations and memory peaks are positive and skewed to the right (a
//! run can take three times as long, never a third of zero), and a job's runs vary in
//! proportion to its size (a 2 h job wanders by minutes, a 5 ms one by milliseconds). On
//! the log scale both become symmetric and comparable, so one threshold in "spreads" means
//! the same for every job. A spread of 0.10 reads "runs typically within ±10.5 %"
//! ([`spread_percent`]).
//!
//! Why Qn and not the MAD: both ignore up to half the runs being wild, but the MAD is only
//! 37 % efficient: from 30 runs it is as shaky as a standard deviation from 11, and a spread
//! estimated too small makes ordinary runs look unusual. Qn is 82 % efficient (Rousseeuw and
//! Croux, "Alternatives to the Median Absolute Deviation", JASA 1993). See ADR 0031.

/// Qn's constant that makes it estimate the standard deviation of normal data.
const QN_CONSISTENCY: f64 = 2.2219;

/// The smallest figure the logarithm is taken of: a run measured as 0 ms counts as 1 ms.
pub const LOG_FLOOR: f64 = 1.0;

/// Qn, an estimate of the standard deviation of `values` (any order) that up to half of
/// them being outliers cannot break: the `k`-th smallest of the pairwise distances
/// `|x_i - x_j|` (`k = h (h - 1) / 2`, `h = n / 2 + 1`), times 2.2219 and the small-sample
/// correction of Croux and Rousseeuw (1992). `None` for fewer than 2 values. Takes `n²/2`
/// distances: 0.5 M for the largest window (1,000 runs).
///
/// ```
/// use slotcron::baseline::spread::qn;
///
/// assert_eq!(qn(&[5.0]), None);
/// assert_eq!(qn(&[3.0, 3.0, 3.0, 9.0]), Some(0.0)); // most runs identical: no spread
/// // The 15th smallest of the 45 distances is 2: 2.2219 x 2 x 10 / 13.8.
/// let q = qn(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
/// assert!((q - 3.22).abs() < 0.01, "{q}");
/// assert_eq!(qn(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1e9]), qn(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]));
/// ```
pub fn qn(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mut distances = Vec::with_capacity(n * (n - 1) / 2);
    for (i, a) in values.iter().enumerate() {
        distances.extend(values[i + 1..].iter().map(|b| (a - b).abs()));
    }
    let h = n / 2 + 1;
    let k = h * (h - 1) / 2;
    let (_, kth, _) = distances.select_nth_unstable_by(k - 1, f64::total_cmp);
    Some(QN_CONSISTENCY * small_sample(n) * *kth)
}

/// Croux and Rousseeuw's finite-sample factors for Qn (as R's `robustbase::Qn` uses them).
fn small_sample(n: usize) -> f64 {
    const TABLE: [f64; 8] = [0.399, 0.994, 0.512, 0.844, 0.611, 0.857, 0.669, 0.872];
    match n {
        2..=9 => TABLE[n - 2],
        _ if n % 2 == 1 => n as f64 / (n as f64 + 1.4),
        _ => n as f64 / (n as f64 + 3.8),
    }
}

/// The spread of a figure: [`qn`] of the natural logarithms of `values` (each at least
/// [`LOG_FLOOR`]). `None` for fewer than 2 values.
///
/// ```
/// use slotcron::baseline::spread::log_spread;
///
/// // 10 s give or take a little: a spread of about 0.05, "±5 %".
/// let runs = [9_500.0, 10_000.0, 10_400.0, 9_800.0, 10_900.0, 10_100.0, 9_300.0, 10_200.0];
/// let s = log_spread(&runs).unwrap();
/// assert!((0.03..0.07).contains(&s), "{s}");
/// ```
pub fn log_spread(values: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = values.iter().map(|v| v.max(LOG_FLOOR).ln()).collect();
    qn(&logs)
}

/// A spread as the percentage people read: runs typically within ± this much of the median
/// (`e^spread - 1`, one decimal).
///
/// ```
/// use slotcron::baseline::spread::spread_percent;
///
/// assert_eq!(spread_percent(0.1), 10.5);
/// assert_eq!(spread_percent(0.0), 0.0);
/// ```
pub fn spread_percent(spread: f64) -> f64 {
    ((spread.exp_m1()) * 1000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qn_of_normal_draws_estimates_their_standard_deviation() {
        let mut rng = fastrand::Rng::with_seed(7);
        let draws: Vec<f64> = (0..2_000).map(|_| normal(&mut rng) * 3.0 + 50.0).collect();
        let q = qn(&draws).unwrap();
        assert!(
            (2.85..3.15).contains(&q),
            "Qn {q} for a standard deviation of 3"
        );
    }

    #[test]
    fn the_small_sample_factors_follow_the_table_then_the_formula() {
        assert_eq!(small_sample(2), 0.399);
        assert_eq!(small_sample(9), 0.872);
        assert_eq!(small_sample(11), 11.0 / 12.4);
        assert_eq!(small_sample(30), 30.0 / 33.8);
    }

    #[test]
    fn zero_figures_count_as_one() {
        assert_eq!(log_spread(&[0.0, 1.0, 0.0, 1.0]), Some(0.0));
    }

    /// A standard normal draw (Box-Muller).
    fn normal(rng: &mut fastrand::Rng) -> f64 {
        let (u, v) = (1.0 - rng.f64(), rng.f64());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
