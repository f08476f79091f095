//! Threads that share a counter, a channel and a barrier, then join.

use std::sync::{mpsc, Arc, Barrier, Mutex};

fn main() {
    let total = Arc::new(Mutex::new(0u64));
    let barrier = Arc::new(Barrier::new(8));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let (total, barrier, tx) = (total.clone(), barrier.clone(), tx.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for j in 0..20_000u64 {
                    *total.lock().unwrap() += j % 7;
                }
                tx.send(i).unwrap();
            })
        })
        .collect();
    drop(tx);
    let mut ids: Vec<u64> = rx.iter().collect();
    ids.sort();
    for h in handles {
        h.join().unwrap();
    }
    println!("ids {ids:?} total {}", total.lock().unwrap());
}
