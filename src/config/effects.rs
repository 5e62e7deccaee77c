//! The effect-size thresholds of `alerting:` (the machine's) and of a job's `alerts:`
//! (over them): `slower`, `bigger`, `faster`, `smaller`, each `{ by: 50%, at_least: 5s }`
//! (a size for `bigger` and `smaller`), and the job's `too_fast` / `too_small` switches.
//! A job's map may give one field and take the other from `alerting:`. The rule that uses
//! them is `stats::effect::judge`; ADR 0031 says why the defaults are what they are.

use serde::Serialize;

use super::fields::Fields;
use super::raw::RawEffect;
use super::units::{ByteSize, Scalar};
use crate::baseline::effect::{Effect, Judging, Rule};

/// The four directions, in the order `alerting:` documents them.
pub const RULES: [Rule; 4] = [Rule::Slower, Rule::Bigger, Rule::Faster, Rule::Smaller];

/// A job's change to one rule's thresholds: each field `None` keeps the machine's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EffectOverride {
    /// `by`, as a fraction (0.5 for `50%`).
    pub relative: Option<f64>,
    /// `at_least`, in milliseconds or bytes.
    pub absolute: Option<f64>,
}

impl EffectOverride {
    /// `base` with this override's fields laid over it.
    pub fn over(&self, base: Effect) -> Effect {
        Effect {
            relative: self.relative.unwrap_or(base.relative),
            absolute: self.absolute.unwrap_or(base.absolute),
        }
    }
}

/// `alerting.<rule>` (or a job's `alerts.<rule>`, with `prefix` `alerts`): the fields it
/// gives, each checked. `by` is a percentage with `%` (0 % to 10,000 % for `slower` and
/// `bigger`; 0 % to 99 % for `faster` and `smaller`, which compare with a fraction of the
/// median); `at_least` a duration or a size.
pub fn effect(
    f: &mut Fields<'_>,
    prefix: &str,
    rule: Rule,
    raw: Option<&RawEffect>,
) -> EffectOverride {
    let Some(raw) = raw else {
        return EffectOverride::default();
    };
    let field = |name: &str| format!("{prefix}.{}.{name}", rule.as_str());
    let max = if rule.up() { 10_000.0 } else { 99.0 };
    let relative = raw
        .by
        .as_ref()
        .and_then(|by| percent(f, &field("by"), by, max))
        .map(|p| p / 100.0);
    let absolute = match rule {
        Rule::Slower | Rule::Faster => f
            .duration(&field("at_least"), raw.at_least.as_ref())
            .map(|d| d.as_secs_f64() * 1000.0),
        Rule::Bigger | Rule::Smaller => f
            .size(&field("at_least"), raw.at_least.as_ref())
            .map(|s: ByteSize| s.bytes() as f64),
    };
    EffectOverride { relative, absolute }
}

/// [`effect`] of each rule in [`RULES`] order, from the four raw maps in that order.
pub fn all(f: &mut Fields<'_>, prefix: &str, raws: [&Option<RawEffect>; 4]) -> [EffectOverride; 4] {
    let mut out = [EffectOverride::default(); 4];
    for ((rule, raw), slot) in RULES.into_iter().zip(raws).zip(&mut out) {
        *slot = effect(f, prefix, rule, raw.as_ref());
    }
    out
}

/// A percentage written with `%` (`50%`, `12.5 %`), from 0 to `max`.
fn percent(f: &mut Fields<'_>, field: &str, value: &Scalar, max: f64) -> Option<f64> {
    let parsed = match value {
        Scalar::Text(text) => text
            .trim()
            .strip_suffix('%')
            .and_then(|n| n.trim().parse::<f64>().ok()),
        _ => None,
    };
    match parsed {
        Some(p) if (0.0..=max).contains(&p) => Some(p),
        _ => {
            f.problem(
                field,
                value,
                format!("must be a percentage with `%`, from 0% to {max}% (e.g. 50%)"),
            );
            None
        }
    }
}

/// The machine's `alerting:` thresholds: the defaults with each rule's fields laid over.
pub fn machine(z: f64, overrides: [EffectOverride; 4]) -> Judging {
    let defaults = Judging::default();
    let [slower, bigger, faster, smaller] = overrides;
    Judging {
        z,
        slower: slower.over(defaults.slower),
        bigger: bigger.over(defaults.bigger),
        faster: faster.over(defaults.faster),
        smaller: smaller.over(defaults.smaller),
        too_fast: false,
        too_small: false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::baseline::effect::{Judging, Rule};
    use crate::config::{Job, Problem, Settings, parse_job};

    fn job(text: &str) -> Result<Job, Vec<Problem>> {
        parse_job(Path::new("/jobs.d/backup.yaml"), text, &Settings::builtin())
    }

    fn settings(text: &str) -> String {
        let problems = Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), text)
            .expect_err("the text has problems");
        problems
            .0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_machine_s_thresholds_default_and_can_be_set_field_by_field() {
        let s = Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), "").unwrap();
        assert_eq!(s.alerting.judging, Judging::default());
        let s = Settings::parse(
            Path::new("/s.yaml"),
            "alerting: { anomaly_z: 4, slower: { by: 100% }, bigger: { at_least: 64M }, \
             faster: { by: 90%, at_least: 1m } }\n",
        )
        .unwrap();
        let j = s.alerting.judging;
        assert_eq!(j.z, 4.0);
        assert_eq!((j.slower.relative, j.slower.absolute), (1.0, 5_000.0));
        assert_eq!(
            (j.bigger.relative, j.bigger.absolute),
            (0.25, 64.0 * 1024.0 * 1024.0)
        );
        assert_eq!((j.faster.relative, j.faster.absolute), (0.9, 60_000.0));
        assert_eq!(j.smaller, Judging::default().smaller);
        assert!(!j.too_fast && !j.too_small);
    }

    #[test]
    fn a_job_lays_its_thresholds_over_the_machine_s_and_turns_too_fast_on() {
        let j = job(
            "command: x\nalerts: { too_fast: true, slower: { at_least: 2m }, smaller: { by: 50% } }\n",
        )
        .unwrap();
        let machine = Judging {
            z: 6.0,
            ..Judging::default()
        };
        let judging = j.alerts.judging(&machine);
        assert_eq!(judging.z, 6.0);
        assert!(judging.too_fast && !judging.too_small);
        assert!(judging.enabled(Rule::Faster));
        assert_eq!(
            (judging.slower.relative, judging.slower.absolute),
            (0.5, 120_000.0)
        );
        assert_eq!(judging.smaller.relative, 0.5);
        assert_eq!(judging.bigger, machine.bigger);
        let plain = job("command: x\n").unwrap();
        assert_eq!(plain.alerts.judging(&machine), machine);
    }

    #[test]
    fn bad_thresholds_name_field_and_value() {
        let all = settings(
            "alerting: { slower: { by: 50 }, faster: { by: 100% }, bigger: { at_least: 5s }, \
             smaller: { by: '-3%' } }\n",
        );
        for needle in [
            "field `alerting.slower.by`: must be a percentage with `%`, from 0% to 10000% (e.g. 50%) (value: `50`)",
            "field `alerting.faster.by`: must be a percentage with `%`, from 0% to 99% (e.g. 50%) (value: `100%`)",
            "field `alerting.bigger.at_least`",
            "(value: `5s`)",
            "field `alerting.smaller.by`",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
        let problems = job("command: x\nalerts: { slower: { at_least: 5M } }\n").unwrap_err();
        let text = problems[0].to_string();
        assert!(
            text.contains("/jobs.d/backup.yaml: field `alerts.slower.at_least`")
                && text.contains("`5M`"),
            "{text}"
        );
        let unknown = job("command: x\nalerts: { slower: { percent: 5 } }\n").unwrap_err();
        assert!(
            unknown[0].to_string().contains("unknown field `percent`"),
            "{unknown:?}"
        );
    }

    #[test]
    fn the_old_degraded_factor_is_refused_with_what_replaced_it() {
        let all = settings("degraded_factor: 2\n");
        assert!(
            all.contains(
                "field `degraded_factor`: was replaced by `alerting.slower` and `alerting.bigger`"
            ),
            "{all}"
        );
    }
}
