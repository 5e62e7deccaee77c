//! Cycles in the graph of jobs that wait on other jobs (`depends_on` and `after` edges).
//! A job on a cycle could never start, so the catalog refuses to load it. Pure graph code:
//! names in, cycles out, so the tests need no files.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// One edge: from a job to a job it names in `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge<'a> {
    /// The field that names the other job: `depends_on` or `after`.
    pub field: &'static str,
    /// The job named; one that is not in the graph is ignored.
    pub to: &'a str,
}

/// A job on a cycle, with the shortest cycle through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCycle {
    /// The job.
    pub job: String,
    /// The field of the job's first edge on `path`.
    pub field: &'static str,
    /// The cycle from the job back to it: `["a", "b", "a"]`.
    pub path: Vec<String>,
}

/// Every job that lies on a cycle of `edges` (by name, in name order), each with a shortest
/// cycle through it. Edges to names that are not keys of `edges` are ignored.
///
/// Strongly connected components (Tarjan) find the jobs on cycles in linear time; a
/// breadth-first search inside each job's component then finds its shortest cycle, so a long
/// chain without cycles costs no more than its length.
pub fn cycles<'a>(edges: &BTreeMap<&'a str, Vec<Edge<'a>>>) -> Vec<OnCycle> {
    let component = components(edges);
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for c in component.values() {
        *sizes.entry(*c).or_default() += 1;
    }
    edges
        .keys()
        .filter(|job| sizes[&component[*job]] > 1)
        .filter_map(|job| shortest_cycle(job, edges, &component))
        .collect()
}

/// Breadth-first from `start`'s successors back to `start`, inside its component.
fn shortest_cycle(
    start: &str,
    edges: &BTreeMap<&str, Vec<Edge<'_>>>,
    component: &HashMap<&str, usize>,
) -> Option<OnCycle> {
    let inside = component[start];
    let mut came_from: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(job) = queue.pop_front() {
        for edge in &edges[job] {
            if component.get(edge.to) != Some(&inside) {
                continue;
            }
            if edge.to == start {
                let mut path = vec![start.to_owned(), job.to_owned()];
                let mut at = job;
                while at != start {
                    at = came_from[at];
                    path.push(at.to_owned());
                }
                path.reverse();
                let next = path[1].as_str();
                let field = edges[start]
                    .iter()
                    .find(|e| e.to == next)
                    .map_or("depends_on", |e| e.field);
                return Some(OnCycle {
                    job: start.to_owned(),
                    field,
                    path,
                });
            }
            if !came_from.contains_key(edge.to) {
                came_from.insert(edge.to, job);
                queue.push_back(edge.to);
            }
        }
    }
    None
}

/// Tarjan's strongly connected components, iterative (a chain of thousands of jobs must not
/// overflow the stack). Maps each job to its component's number.
fn components<'a>(edges: &BTreeMap<&'a str, Vec<Edge<'a>>>) -> HashMap<&'a str, usize> {
    let mut t = Tarjan::default();
    for &root in edges.keys() {
        if t.visits.contains_key(root) {
            continue;
        }
        // (job, position of the next edge to follow)
        let mut call: Vec<(&str, usize)> = vec![(root, 0)];
        t.enter(root);
        while let Some(&mut (job, ref mut at)) = call.last_mut() {
            if let Some(edge) = edges[job].get(*at) {
                *at += 1;
                let to = edge.to;
                if !edges.contains_key(to) {
                    continue;
                }
                match t.visits.get(to) {
                    None => {
                        t.enter(to);
                        call.push((to, 0));
                    }
                    Some(v) if v.on_stack => {
                        let index = v.index;
                        t.lower(job, index);
                    }
                    Some(_) => {}
                }
                continue;
            }
            call.pop();
            let low = t.visits[job].low;
            if let Some(&(parent, _)) = call.last() {
                t.lower(parent, low);
            }
            t.close(job);
        }
    }
    t.component
}

/// The state of [`components`]' walk.
#[derive(Default)]
struct Tarjan<'a> {
    visits: HashMap<&'a str, Visit>,
    component: HashMap<&'a str, usize>,
    /// Jobs visited and not yet assigned a component.
    stack: Vec<&'a str>,
    next_index: usize,
    next_component: usize,
}

/// One job's place in the walk.
struct Visit {
    index: usize,
    /// The lowest index reachable from it.
    low: usize,
    on_stack: bool,
}

impl<'a> Tarjan<'a> {
    /// Numbers `job` and puts it on the stack.
    fn enter(&mut self, job: &'a str) {
        let index = self.next_index;
        self.next_index += 1;
        let visit = Visit {
            index,
            low: index,
            on_stack: true,
        };
        self.visits.insert(job, visit);
        self.stack.push(job);
    }

    /// `job` reaches `index`.
    fn lower(&mut self, job: &str, index: usize) {
        let visit = self.visits.get_mut(job).expect("visited");
        visit.low = visit.low.min(index);
    }

    /// After `job`'s edges: when it is its component's root, its component is the stack
    /// down to it.
    fn close(&mut self, job: &str) {
        let visit = &self.visits[job];
        if visit.low != visit.index {
            return;
        }
        while let Some(member) = self.stack.pop() {
            self.visits.get_mut(member).expect("visited").on_stack = false;
            self.component.insert(member, self.next_component);
            if member == job {
                break;
            }
        }
        self.next_component += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(
        jobs: &[(&'a str, &[(&'static str, &'a str)])],
    ) -> BTreeMap<&'a str, Vec<Edge<'a>>> {
        jobs.iter()
            .map(|(job, out)| {
                let out = out.iter().map(|&(field, to)| Edge { field, to }).collect();
                (*job, out)
            })
            .collect()
    }

    fn paths(found: &[OnCycle]) -> Vec<String> {
        found
            .iter()
            .map(|c| format!("{} {}", c.field, c.path.join(" -> ")))
            .collect()
    }

    #[test]
    fn a_two_job_cycle_names_each_job_with_its_own_edge() {
        let g = graph(&[
            ("a", &[("depends_on", "b")]),
            ("b", &[("after", "a")]),
            ("c", &[("after", "a")]),
        ]);
        assert_eq!(
            paths(&cycles(&g)),
            ["depends_on a -> b -> a", "after b -> a -> b"]
        );
    }

    #[test]
    fn each_job_gets_its_shortest_cycle_and_jobs_off_cycles_none() {
        // a -> b -> c -> a, plus a shortcut c -> b; d hangs off the cycle; e -> ghost.
        let g = graph(&[
            ("a", &[("after", "b")]),
            ("b", &[("depends_on", "c")]),
            ("c", &[("depends_on", "a"), ("after", "b")]),
            ("d", &[("after", "c")]),
            ("e", &[("after", "ghost")]),
        ]);
        assert_eq!(
            paths(&cycles(&g)),
            [
                "after a -> b -> c -> a",
                "depends_on b -> c -> b",
                "after c -> b -> c",
            ]
        );
    }

    #[test]
    fn a_long_chain_has_no_cycle_and_closing_it_puts_every_job_on_one() {
        let chain = |n: usize, closed: bool| {
            let names: Vec<String> = (0..n).map(|i| format!("j{i:04}")).collect();
            let mut found = Vec::new();
            let g: BTreeMap<&str, Vec<Edge<'_>>> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let out = match names.get(i + 1) {
                        Some(next) => vec![Edge {
                            field: "after",
                            to: next.as_str(),
                        }],
                        None if closed => vec![Edge {
                            field: "depends_on",
                            to: "j0000",
                        }],
                        None => Vec::new(),
                    };
                    (name.as_str(), out)
                })
                .collect();
            found.extend(cycles(&g));
            found
        };
        // Deep enough that a recursive search would overflow a test thread's stack.
        assert!(chain(100_000, false).is_empty());
        let found = chain(200, true);
        assert_eq!(found.len(), 200);
        assert_eq!(found[0].path.len(), 201);
        assert_eq!(found[0].path.last().map(String::as_str), Some("j0000"));
        assert_eq!(found[199].field, "depends_on");
    }
}
