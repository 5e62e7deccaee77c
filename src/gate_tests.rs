//! The gate's admission, eviction and refusal, with time under the test's control.

use std::net::Ipv4Addr;

use super::*;

fn ip(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
}

fn evicted(pass: &mut Pass) -> bool {
    pass.evicted.try_recv().is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_full_gate_evicts_the_longest_idle_and_refuses_when_all_are_busy() {
    let gate = Gate::new(
        "test",
        Limits {
            total: 3,
            per_peer: 3,
        },
    );
    let mut a = gate.admit(ip(1)).unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut b = gate.admit(ip(2)).unwrap();
    let _busy_b = b.conn().busy();
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut c = gate.admit(ip(3)).unwrap();
    // `a` was idle longest: evicted; `b` is busy, `c` younger.
    let mut d = gate.admit(ip(4)).unwrap();
    assert!(evicted(&mut a));
    assert!(!evicted(&mut b) && !evicted(&mut c));
    // `a` counts until its task closes it.
    assert_eq!(gate.open(), 4);
    let settled = tokio::spawn({
        let gate = gate.clone();
        async move { gate.settled().await }
    });
    tokio::task::yield_now().await;
    assert!(!settled.is_finished(), "not settled while `a` is open");
    drop(a);
    settled.await.unwrap();
    assert_eq!(gate.open(), 3);
    // A connection that was busy and became idle again counts from then.
    tokio::time::advance(Duration::from_secs(1)).await;
    drop(c.conn().busy());
    let _e = gate.admit(ip(5)).unwrap();
    assert!(
        evicted(&mut d),
        "d idle since admission, c since its request ended"
    );
    assert!(!evicted(&mut c));
    drop(d);
    // Everyone busy: refused, nobody evicted.
    let _busy_c = c.conn().busy();
    let _busy_e = _e.conn().busy();
    assert_eq!(gate.admit(ip(6)).unwrap_err(), Refusal::Full { open: 3 });
    assert!(!evicted(&mut b) && !evicted(&mut c));
    // A closed connection gives its place back.
    drop(_busy_b);
    drop(b);
    assert!(gate.admit(ip(7)).is_ok());
}

#[tokio::test(start_paused = true)]
async fn one_peer_evicts_only_its_own_connections() {
    let gate = Gate::new(
        "test",
        Limits {
            total: 4,
            per_peer: 2,
        },
    );
    let mut other = gate.admit(ip(9)).unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut first = gate.admit(ip(1)).unwrap();
    let mut second = gate.admit(ip(1)).unwrap();
    let _third = gate.admit(ip(1)).unwrap();
    assert!(evicted(&mut first), "the peer's own oldest goes");
    assert!(!evicted(&mut other), "another peer's idle connection stays");
    drop(first);
    let _busy = second.conn().busy();
    let _busy3 = _third.conn().busy();
    let refused = gate.admit(ip(1)).unwrap_err();
    assert_eq!(
        refused,
        Refusal::PeerFull {
            peer: ip(1).unwrap(),
            open: 2
        }
    );
    assert!(!evicted(&mut second));
    // IPv4-mapped IPv6 is the same peer.
    let mapped = "::ffff:10.0.0.1".parse::<IpAddr>().ok();
    assert!(matches!(gate.admit(mapped), Err(Refusal::PeerFull { .. })));
}

#[tokio::test]
async fn eviction_wakes_the_connection() {
    let gate = Gate::new(
        "test",
        Limits {
            total: 1,
            per_peer: 1,
        },
    );
    let mut first = gate.admit(None).unwrap();
    let waiting = tokio::spawn(async move {
        first.evicted().await;
    });
    let _second = gate.admit(None).unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken")
        .unwrap();
}

#[test]
fn a_waiting_request_is_seen_without_being_consumed() {
    use std::io::{Read, Write};
    let (mut client, server) = std::os::unix::net::UnixStream::pair().unwrap();
    assert!(!request_waiting(&server, b"\n"), "nothing sent");
    client.write_all(b"{\"request\":").unwrap();
    assert!(!request_waiting(&server, b"\n"), "half a line");
    client.write_all(b"\"status\"}\n").unwrap();
    assert!(request_waiting(&server, b"\n"));
    let mut line = [0u8; 21];
    (&server).read_exact(&mut line).unwrap();
    assert_eq!(&line, b"{\"request\":\"status\"}\n", "peeked, not read");
}
