use chrono::{Duration, TimeZone};

use super::*;

const GIB: u64 = 1 << 30;

fn t(sec: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap() + Duration::seconds(sec)
}

fn slot(name: &str, seats: u32, gib: u64, queue_limit: u32) -> SlotSpec {
    SlotSpec {
        name: name.into(),
        max_concurrent: seats,
        memory_budget: gib * GIB,
        queue_limit,
    }
}

fn run(job: &str, slot: &str, priority: Priority, due: i64, memory: u64) -> Pending {
    Pending {
        job: job.into(),
        slot: slot.into(),
        priority,
        due: t(due),
        queued_at: t(due),
        trigger: "schedule".into(),
        attempt: 1,
        retry_of: None,
        expected_memory: memory,
    }
}

fn names(admitted: &[Admitted]) -> Vec<&str> {
    admitted.iter().map(|a| a.0.job.as_str()).collect()
}

#[test]
fn six_due_at_once_with_five_seats_start_five() {
    let mut a = Admission::new([slot("default", 5, 3, 100)], None);
    for i in 0..6 {
        a.enqueue(run(
            &format!("j{i}"),
            "default",
            Priority::Medium,
            0,
            1 << 20,
        ))
        .unwrap();
    }
    let first = a.admit(|_, _| true);
    assert_eq!(names(&first), ["j0", "j1", "j2", "j3", "j4"]);
    assert_eq!(a.slot("default").unwrap().queue_len(), 1);
    assert!(a.admit(|_, _| true).is_empty(), "no seat until one frees");
    a.release("default", 1 << 20);
    assert_eq!(names(&a.admit(|_, _| true)), ["j5"]);
}

#[test]
fn priority_beats_due_time_and_due_time_beats_arrival() {
    let mut a = Admission::new([slot("default", 1, 3, 100)], None);
    a.enqueue(run("late-low", "default", Priority::Low, 0, 0))
        .unwrap();
    a.enqueue(run("b", "default", Priority::High, 5, 0))
        .unwrap();
    a.enqueue(run("a", "default", Priority::High, 2, 0))
        .unwrap();
    a.enqueue(run("crit", "default", Priority::Critical, 9, 0))
        .unwrap();
    let mut order = Vec::new();
    for _ in 0..4 {
        let got = a.admit(|_, _| true);
        assert_eq!(got.len(), 1);
        order.push(got[0].0.job.clone());
        a.release("default", 0);
    }
    assert_eq!(order, ["crit", "a", "b", "late-low"]);
}

#[test]
fn memory_budget_holds_back_a_run_that_does_not_fit_and_nothing_overtakes_it() {
    let mut a = Admission::new([slot("default", 5, 3, 100)], None);
    a.enqueue(run("two-gib", "default", Priority::Medium, 0, 2 * GIB))
        .unwrap();
    a.enqueue(run("big", "default", Priority::Medium, 1, 2 * GIB))
        .unwrap();
    a.enqueue(run("small", "default", Priority::Medium, 2, GIB / 4))
        .unwrap();
    assert_eq!(names(&a.admit(|_, _| true)), ["two-gib"]);
    assert_eq!(a.slot("default").unwrap().reserved, 2 * GIB);
    a.release("default", 2 * GIB);
    assert_eq!(names(&a.admit(|_, _| true)), ["big", "small"]);
}

#[test]
fn an_idle_slot_admits_a_run_expected_above_its_whole_budget() {
    let mut a = Admission::new([slot("light", 10, 1, 100)], None);
    a.enqueue(run("huge", "light", Priority::Medium, 0, 5 * GIB))
        .unwrap();
    assert_eq!(names(&a.admit(|_, _| true)), ["huge"]);
}

#[test]
fn queue_limit_refuses_the_run_that_would_exceed_it() {
    let mut a = Admission::new([slot("heavy", 1, 4, 2)], None);
    a.enqueue(run("a", "heavy", Priority::Medium, 0, 0))
        .unwrap();
    a.enqueue(run("b", "heavy", Priority::Medium, 0, 0))
        .unwrap();
    let err = a
        .enqueue(run("c", "heavy", Priority::Medium, 0, 0))
        .unwrap_err();
    assert_eq!(
        err,
        QueueFull {
            slot: "heavy".into(),
            limit: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "slot `heavy` already has 2 runs waiting (queue_limit)"
    );
}

#[test]
fn global_budget_holds_across_slots_and_serves_the_most_urgent_first() {
    let mut a = Admission::new(
        [slot("default", 5, 3, 100), slot("heavy", 2, 4, 100)],
        Some(5 * GIB),
    );
    a.enqueue(run("report", "default", Priority::Medium, 0, 2 * GIB))
        .unwrap();
    a.enqueue(run("backup", "heavy", Priority::High, 1, 2 * GIB))
        .unwrap();
    a.enqueue(run("import", "heavy", Priority::Medium, 2, 2 * GIB))
        .unwrap();
    // backup (high) first, then report; import would take the total to 6 GiB > 5 GiB,
    // although it fits its own slot (heavy: 2 + 2 of 4 GiB).
    assert_eq!(names(&a.admit(|_, _| true)), ["backup", "report"]);
    a.release("default", 2 * GIB);
    assert_eq!(names(&a.admit(|_, _| true)), ["import"]);
    let total: u64 = a.slots().map(|s| s.reserved).sum();
    assert_eq!(total, 4 * GIB);
}

#[test]
fn ineligible_runs_wait_without_holding_up_the_others() {
    let mut a = Admission::new([slot("default", 5, 3, 100)], None);
    a.enqueue(run("blocked", "default", Priority::High, 0, 0))
        .unwrap();
    a.enqueue(run("free", "default", Priority::Low, 1, 0))
        .unwrap();
    assert_eq!(names(&a.admit(|p, _| p.job != "blocked")), ["free"]);
    assert!(a.is_queued("blocked"));
    assert_eq!(names(&a.admit(|_, _| true)), ["blocked"]);
}

#[test]
fn adopted_runs_hold_seats_and_removal_empties_queues() {
    let mut a = Admission::new([slot("heavy", 1, 4, 100)], None);
    a.occupy("heavy", GIB);
    a.enqueue(run("x", "heavy", Priority::Medium, 0, 0))
        .unwrap();
    assert!(a.admit(|_, _| true).is_empty());
    let removed = a.remove_queued(|p| p.job == "x");
    assert_eq!(removed.len(), 1);
    assert_eq!(a.queued_total(), 0);
}
