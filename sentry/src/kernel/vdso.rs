//! The vDSO: a tiny shared object mapped into every process so that
//! clock_gettime, gettimeofday and time do not trap. It computes time from
//! the TSC and parameters (base times, TSC rate) the sentry keeps in a
//! read-only page just before the image and refreshes every 50 ms.

use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::errno::Errno;
use crate::mm::{page_up, MemRange, MemoryFile, PAGE};

/// The image built by build.rs from sentry/vdso/.
static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// The parameter page and the image, shared by every process.
pub struct Vdso {
    /// One page of parameters (mapped read-only before the image).
    pub params: Arc<MemRange>,
    /// The ELF image.
    pub image: Arc<MemRange>,
    /// The image's length (page multiple).
    pub image_len: u64,
}

/// The parameter page of the sandbox's vDSO, so that the sentry's own
/// clock syscalls read time from the same line as the vDSO (two sources
/// would let time seem to step back between them).
static PARAMS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// The time on `clock` in nanoseconds as the vDSO computes it, or None if
/// the vDSO does not serve that clock (yet).
pub fn clock_now(clock: libc::clockid_t) -> Option<i64> {
    let base = *PARAMS.get()? as *const u8;
    // SAFETY: the page lives in the memory file for the sandbox's life;
    // reads are volatile and checked with the sequence counter.
    let get32 = |o: usize| unsafe { std::ptr::read_volatile(base.add(o) as *const u32) };
    // SAFETY: as above, 8-byte aligned offsets.
    let get64 = |o: usize| unsafe { std::ptr::read_volatile(base.add(o) as *const u64) };
    loop {
        let seq = get32(0);
        fence(Ordering::SeqCst);
        if seq & 1 == 1 {
            continue;
        }
        if get32(4) == 0 {
            return None;
        }
        let off = match clock {
            libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE => 32,
            libc::CLOCK_MONOTONIC | libc::CLOCK_MONOTONIC_COARSE | libc::CLOCK_MONOTONIC_RAW => 24,
            libc::CLOCK_BOOTTIME => 40,
            _ => return None,
        };
        let delta = rdtsc().wrapping_sub(get64(8)) as u128;
        let ns = get64(off) as i64 + ((delta * get64(16) as u128) >> 32) as i64;
        fence(Ordering::SeqCst);
        if get32(0) == seq {
            return Some(ns);
        }
    }
}

fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86-64.
    unsafe { std::arch::x86_64::_rdtsc() }
}

fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Whether the TSC ticks at a constant rate (CPUID invariant TSC), which
/// the time computation needs; otherwise every call falls back to a syscall.
fn invariant_tsc() -> bool {
    let max = std::arch::x86_64::__cpuid(0x8000_0000).eax;
    max >= 0x8000_0007 && std::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
}

/// Layout of the parameter page (see vdso.c).
struct Params {
    base: *mut u8,
}

impl Params {
    fn put32(&self, off: usize, v: u32) {
        // SAFETY: off is within the page we own.
        unsafe { std::ptr::write_volatile(self.base.add(off) as *mut u32, v) };
    }
    fn put64(&self, off: usize, v: u64) {
        // SAFETY: as above, 8-byte aligned offsets.
        unsafe { std::ptr::write_volatile(self.base.add(off) as *mut u64, v) };
    }
    fn get32(&self, off: usize) -> u32 {
        // SAFETY: as above.
        unsafe { std::ptr::read_volatile(self.base.add(off) as *const u32) }
    }

    /// Writes a new parameter set under the sequence counter.
    fn publish(&self, tsc: u64, mult: u64, mono: i64, real: i64, boot: i64, enabled: bool) {
        let seq = self.get32(0);
        self.put32(0, seq.wrapping_add(1));
        fence(Ordering::SeqCst);
        self.put32(4, enabled as u32);
        self.put64(8, tsc);
        self.put64(16, mult);
        self.put64(24, mono as u64);
        self.put64(32, real as u64);
        self.put64(40, boot as u64);
        fence(Ordering::SeqCst);
        self.put32(0, seq.wrapping_add(2));
    }
}

// SAFETY: the pointer is into the memory file, which lives for the sandbox.
unsafe impl Send for Params {}

impl Vdso {
    /// Loads the image into the memory file and starts the thread that
    /// keeps the parameters current.
    pub fn new(mf: &Arc<MemoryFile>) -> Result<Vdso, Errno> {
        let image_len = page_up(IMAGE.len() as u64);
        let image = MemRange::new(mf, image_len)?;
        let params = MemRange::new(mf, PAGE)?;
        // SAFETY: the ranges were just allocated for us.
        unsafe {
            std::ptr::copy_nonoverlapping(
                IMAGE.as_ptr(),
                mf.ptr(image.offset(), image_len),
                IMAGE.len(),
            );
        }
        let page = Params {
            base: mf.ptr(params.offset(), PAGE),
        };
        let _ = PARAMS.set(page.base as usize);
        let enabled = invariant_tsc();
        // Until the TSC is calibrated, every call falls back to a syscall.
        page.publish(0, 0, 0, 0, 0, false);
        let _ = std::thread::Builder::new()
            .name("vdso-clock".into())
            .spawn(move || {
                // Calibrate the TSC against the host's monotonic clock, off
                // the start-up path.
                let (t0, c0) = (clock_ns(libc::CLOCK_MONOTONIC), rdtsc());
                std::thread::sleep(Duration::from_millis(20));
                let mult = move |t: i64, c: u64| -> u64 {
                    let dc = c.wrapping_sub(c0).max(1) as u128;
                    ((((t - t0).max(1) as u128) << 32) / dc) as u64
                };
                let (mut tsc, mut mono) = (rdtsc(), clock_ns(libc::CLOCK_MONOTONIC));
                let mut m = mult(mono, tsc);
                page.publish(
                    tsc,
                    m,
                    mono,
                    clock_ns(libc::CLOCK_REALTIME),
                    clock_ns(libc::CLOCK_BOOTTIME),
                    enabled,
                );
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                    let c = rdtsc();
                    let host = clock_ns(libc::CLOCK_MONOTONIC);
                    // Never step monotonic time back: continue the old line
                    // if it is ahead of the host, and let the rate (measured
                    // over the whole run) pull it in.
                    let predicted = mono + ((c.wrapping_sub(tsc) as u128 * m as u128) >> 32) as i64;
                    let new_mono = host.max(predicted);
                    m = mult(host, c);
                    let real = clock_ns(libc::CLOCK_REALTIME) + (new_mono - host);
                    let boot = clock_ns(libc::CLOCK_BOOTTIME) + (new_mono - host);
                    page.publish(c, m, new_mono, real, boot, enabled);
                    (tsc, mono) = (c, new_mono);
                }
            });
        Ok(Vdso {
            params,
            image,
            image_len,
        })
    }
}
