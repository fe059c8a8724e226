//! Who has the messenger open on the other nodes. Each node announces the
//! people who come and go on it as they do, and its whole list every few
//! seconds; a node not heard from for [`PresenceBook::EXPIRES`] is taken to
//! be gone, with its people. So a lost announcement, a node that joins late,
//! or one that died are all right again within one period.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct PresenceBook {
    nodes: HashMap<String, NodePresence>,
}

#[derive(Debug)]
struct NodePresence {
    heard: Instant,
    people: HashSet<i64>,
}

impl PresenceBook {
    /// How often each node announces its whole list.
    pub const EVERY: Duration = Duration::from_secs(10);
    /// Three announcements missed: the node is gone.
    pub const EXPIRES: Duration = Duration::from_secs(35);

    /// A node's whole list.
    pub fn replace(&mut self, node: &str, people: impl IntoIterator<Item = i64>, now: Instant) {
        self.nodes.insert(node.to_string(), NodePresence { heard: now, people: people.into_iter().collect() });
    }

    /// People who came to or left a node.
    pub fn change(&mut self, node: &str, came: &[i64], left: &[i64], now: Instant) {
        let entry =
            self.nodes.entry(node.to_string()).or_insert_with(|| NodePresence { heard: now, people: HashSet::new() });
        entry.heard = now;
        entry.people.extend(came);
        for person in left {
            entry.people.remove(person);
        }
    }

    /// Which of `people` are online on a node heard from lately.
    pub fn online(&self, people: &[i64], now: Instant) -> HashSet<i64> {
        let live: Vec<&NodePresence> =
            self.nodes.values().filter(|n| now.duration_since(n.heard) < Self::EXPIRES).collect();
        people.iter().copied().filter(|p| live.iter().any(|n| n.people.contains(p))).collect()
    }

    /// Forgets a node known to be gone.
    pub fn forget(&mut self, node: &str) {
        self.nodes.remove(node);
    }

    /// Forgets nodes not heard from for too long.
    pub fn expire(&mut self, now: Instant) {
        self.nodes.retain(|_, n| now.duration_since(n.heard) < Self::EXPIRES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_online_while_any_node_has_them() {
        let now = Instant::now();
        let mut book = PresenceBook::default();
        book.replace("a", [1, 2], now);
        book.change("b", &[2, 3], &[], now);
        assert_eq!(book.online(&[1, 2, 3, 4], now), HashSet::from([1, 2, 3]));
        book.change("a", &[], &[2], now);
        assert_eq!(book.online(&[2], now), HashSet::from([2]), "still on b");
        book.change("b", &[], &[2], now);
        assert!(book.online(&[2], now).is_empty());
    }

    #[test]
    fn a_whole_list_replaces_what_was_known_of_that_node() {
        let now = Instant::now();
        let mut book = PresenceBook::default();
        book.change("a", &[1, 2], &[], now);
        book.replace("a", [2, 5], now);
        assert_eq!(book.online(&[1, 2, 5], now), HashSet::from([2, 5]));
    }

    #[test]
    fn a_node_not_heard_from_takes_its_people_with_it() {
        let then = Instant::now();
        let mut book = PresenceBook::default();
        book.replace("dead", [1], then);
        let later = then + PresenceBook::EXPIRES;
        book.replace("alive", [2], later);
        assert_eq!(book.online(&[1, 2], later), HashSet::from([2]));
        book.expire(later);
        assert_eq!(book.nodes.len(), 1);
    }
}
