//! How jobs name each other for the scheduler: `after:` chains (which jobs start when a
//! job succeeds) and `blocks:` (which jobs may not run beside which). Built from the loaded
//! jobs in one pass; the daemon's registry and the forecast (`crate::plan`) ask the same
//! [`Links`], so a chain or a block means the same to both.

use std::collections::{HashMap, HashSet};

use crate::config::Job;

/// The `after:` and `blocks:` relations of a set of jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// For each job, the jobs that name it in `after:` (started when it succeeds), in the
    /// order the jobs were given.
    followers: HashMap<String, Vec<String>>,
    /// Each `blocks:` entry as (job, blocked), as written; [`Links::blocks`] reads it both
    /// ways.
    blocked: HashSet<(String, String)>,
    /// Jobs on either side of a `blocks:` entry; admission looks for conflicts only for
    /// these, so the common case costs one hash probe per queued run.
    blocking: HashSet<String>,
}

impl Links {
    /// The relations the jobs declare.
    pub fn new<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> Links {
        let mut links = Links::default();
        for job in jobs {
            for blocked in &job.blocks {
                links.blocking.insert(job.name.clone());
                links.blocking.insert(blocked.clone());
                links.blocked.insert((job.name.clone(), blocked.clone()));
            }
            for leader in &job.after {
                links
                    .followers
                    .entry(leader.clone())
                    .or_default()
                    .push(job.name.clone());
            }
        }
        links
    }

    /// The jobs that start when `leader` succeeds (`after: [leader]`).
    pub fn followers(&self, leader: &str) -> &[String] {
        self.followers.get(leader).map_or(&[], Vec::as_slice)
    }

    /// Whether `a` and `b` may not run at the same time (`blocks:` either way).
    pub fn blocks(&self, a: &str, b: &str) -> bool {
        if !self.blocking.contains(a) {
            return false;
        }
        let pair = |x: &str, y: &str| self.blocked.contains(&(x.to_owned(), y.to_owned()));
        pair(a, b) || pair(b, a)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Settings, parse_job};

    fn job(name: &str, text: &str) -> Job {
        let path = format!("/jobs.d/{name}.yaml");
        parse_job(Path::new(&path), text, &Settings::builtin()).unwrap()
    }

    #[test]
    fn after_lists_followers_and_blocks_reads_both_ways() {
        let jobs = [
            job("a", "command: x\nblocks: [b]\n"),
            job("b", "command: x\n"),
            job("c", "command: x\nafter: [a]\n"),
            job("d", "command: x\nafter: [a, b]\n"),
        ];
        let links = Links::new(&jobs);
        assert_eq!(links.followers("a"), ["c", "d"]);
        assert_eq!(links.followers("b"), ["d"]);
        assert!(links.followers("c").is_empty());
        assert!(links.blocks("a", "b") && links.blocks("b", "a"));
        assert!(!links.blocks("a", "a") && !links.blocks("a", "c") && !links.blocks("c", "d"));
    }
}
