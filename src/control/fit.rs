//! Every answer fits the frame a client reads ([`MAX_RESPONSE_LINE`]), so no command
//! fails on size: [`encode_response`] sends an answer as it is when it fits, and otherwise
//! shortens it, saying so. A status report first cuts each problem message to an excerpt
//! ([`PROBLEM_EXCERPT`]), then leaves out problems, then jobs, from the end, counting what
//! it left out in `problems_omitted` and `jobs_omitted`; a message is cut to an excerpt.
//!
//! Requests stay capped small ([`super::protocol::MAX_REQUEST_LINE`]): only the daemon's
//! own answers can be large, and they are shortened where they are made.

use serde::Serialize;

use super::protocol::{MAX_RESPONSE_LINE, Response, StatusReport, encode};

/// The most of a problem message (bytes) a report keeps once it has to shorten itself.
pub const PROBLEM_EXCERPT: usize = 1024;

/// Room kept for the omission counts and the newline.
const SLACK: usize = 64;

/// `response` as one line (newline included) of at most `max` bytes plus the newline.
pub fn encode_response(response: Response, max: usize) -> Vec<u8> {
    if !clearly_over(&response, max) {
        let line = encode(&response);
        if line.len() <= max + 1 {
            return line;
        }
    }
    let shortened = match response {
        Response::Status(report) => Response::Status(Box::new(fit_report(*report, max))),
        Response::Ok { message } => Response::ok(excerpt(&message, max / 2)),
        Response::Error { message } => Response::error(excerpt(&message, max / 2)),
    };
    let line = encode(&shortened);
    if line.len() <= max + 1 {
        line
    } else {
        encode(&Response::error(format!(
            "the answer is longer than {max} bytes even without its jobs and problems"
        )))
    }
}

/// Whether the text alone is already over `max`, so encoding the whole answer (megabytes,
/// on the daemon's loop) only to learn that it does not fit can be skipped.
fn clearly_over(response: &Response, max: usize) -> bool {
    match response {
        Response::Status(report) => report.problems.iter().map(String::len).sum::<usize>() > max,
        Response::Ok { message } | Response::Error { message } => message.len() > max,
    }
}

/// [`encode_response`] with the frame every client reads.
pub fn encode_for_client(response: Response) -> Vec<u8> {
    encode_response(response, MAX_RESPONSE_LINE)
}

/// `report` shortened until it encodes in `max` bytes (or has nothing left to leave out).
fn fit_report(mut report: StatusReport, max: usize) -> StatusReport {
    for problem in &mut report.problems {
        if problem.len() > PROBLEM_EXCERPT {
            *problem = excerpt(problem, PROBLEM_EXCERPT);
        }
    }
    let size = encoded_len(&report);
    let budget = max.saturating_sub(SLACK);
    let over = size.saturating_sub(budget);
    let (dropped, over) = drop_from_end(&mut report.problems, over);
    report.problems_omitted += dropped;
    let (dropped, _) = drop_from_end(&mut report.jobs, over);
    report.jobs_omitted += dropped;
    report
}

/// Removes items from the end of `items` until their encoded sizes add up to `over` bytes;
/// how many it removed and how many bytes are still over.
fn drop_from_end<T: Serialize>(items: &mut Vec<T>, mut over: usize) -> (usize, usize) {
    let mut dropped = 0;
    while over > 0 {
        let Some(item) = items.pop() else { break };
        over = over.saturating_sub(encoded_len(&item) + 1);
        dropped += 1;
    }
    (dropped, over)
}

fn encoded_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |v| v.len())
}

fn excerpt(text: &str, max: usize) -> String {
    crate::printable::excerpt(text, max).into_owned()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::protocol::{JobState, JobStatus, decode_response};
    use super::*;

    fn report(jobs: usize, problems: Vec<String>) -> StatusReport {
        StatusReport {
            pid: 1,
            started_at: Utc::now(),
            enforcement: "none".into(),
            paused: None,
            history: Default::default(),
            slots: vec![],
            jobs: (0..jobs)
                .map(|i| JobStatus {
                    name: format!("job-{i:06}"),
                    slot: "default".into(),
                    schedule: "@daily".into(),
                    state: JobState::Idle,
                    enabled: true,
                    override_enabled: None,
                    next_fire: None,
                    last_status: None,
                    last_started_at: None,
                    consecutive_failures: 0,
                    health: Default::default(),
                    memory: Default::default(),
                })
                .collect(),
            running: vec![],
            problems,
            problems_omitted: 0,
            jobs_omitted: 0,
            cgroup_root: None,
        }
    }

    fn status_of(line: &[u8]) -> StatusReport {
        match decode_response(&line[..line.len() - 1]).unwrap() {
            Response::Status(report) => *report,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_that_fits_is_sent_as_it_is() {
        let small = Response::Status(Box::new(report(3, vec!["a.yaml: bad".into()])));
        assert_eq!(encode_response(small.clone(), 1 << 20), encode(&small));
    }

    #[test]
    fn a_17_mib_problem_becomes_an_excerpt_naming_its_file() {
        let huge = format!(
            "jobs.d/huge.yaml:2: unknown field `{}`",
            "x".repeat(17 << 20)
        );
        let line = encode_for_client(Response::Status(Box::new(report(2, vec![huge]))));
        assert!(line.len() <= MAX_RESPONSE_LINE + 1);
        let got = status_of(&line);
        assert_eq!(got.jobs.len(), 2);
        assert_eq!(got.problems.len(), 1);
        assert!(got.problems[0].starts_with("jobs.d/huge.yaml:2: unknown field `xxx"));
        assert!(
            got.problems[0].ends_with("more bytes)"),
            "{}",
            got.problems[0].len()
        );
        assert!(got.problems[0].len() < PROBLEM_EXCERPT + 40);
        assert_eq!(got.problems_omitted, 0);
    }

    #[test]
    fn too_many_problems_then_jobs_are_left_out_and_counted() {
        let problems: Vec<String> = (0..500)
            .map(|i| format!("p{i}: {}", "y".repeat(900)))
            .collect();
        let max = 64 * 1024;
        let line = encode_response(Response::Status(Box::new(report(2000, problems))), max);
        assert!(line.len() <= max + 1, "{}", line.len());
        let got = status_of(&line);
        assert_eq!(got.problems.len() + got.problems_omitted, 500);
        assert!(got.problems.is_empty(), "problems go before jobs");
        assert_eq!(got.jobs.len() + got.jobs_omitted, 2000);
        assert!(got.jobs_omitted > 0 && !got.jobs.is_empty());
        assert_eq!(got.jobs[0].name, "job-000000", "the first ones are kept");
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        let line = encode_response(Response::error("é".repeat(1000)), 200);
        let Response::Error { message } = decode_response(&line[..line.len() - 1]).unwrap() else {
            panic!()
        };
        assert!(
            message.starts_with("éé") && message.ends_with("more bytes)"),
            "{message}"
        );
    }
}
