//! seccomp for applications: classic BPF filters that an application
//! installs on its own threads (seccomp(2), PR_SET_SECCOMP), run by the
//! sentry on every system call of those threads before it is handled.

use std::sync::Arc;

use crate::errno::Errno;

/// One BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

/// A thread's seccomp mode.
#[derive(Clone, Default)]
pub enum Mode {
    /// No filtering.
    #[default]
    Off,
    /// SECCOMP_MODE_STRICT: read, write, exit and rt_sigreturn only.
    Strict,
    /// SECCOMP_MODE_FILTER.
    Filter(Arc<Chain>),
}

impl Mode {
    /// The number PR_GET_SECCOMP reports.
    pub fn number(&self) -> u64 {
        match self {
            Mode::Off => 0,
            Mode::Strict => 1,
            Mode::Filter(_) => 2,
        }
    }
}

/// The filters of a thread, newest first: every one runs, the result with
/// the highest precedence wins.
pub struct Chain {
    prog: Vec<Insn>,
    prev: Option<Arc<Chain>>,
}

/// Filter results (`SECCOMP_RET_*`).
pub mod ret {
    /// Kill the process.
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    /// Kill the thread.
    pub const KILL_THREAD: u32 = 0;
    /// Send SIGSYS.
    pub const TRAP: u32 = 0x0003_0000;
    /// Fail with the errno in the data.
    pub const ERRNO: u32 = 0x0005_0000;
    /// Hand to a user-space supervisor.
    pub const USER_NOTIF: u32 = 0x7fc0_0000;
    /// Hand to a ptrace tracer.
    pub const TRACE: u32 = 0x7ff0_0000;
    /// Allow after logging.
    pub const LOG: u32 = 0x7ffc_0000;
    /// Allow.
    pub const ALLOW: u32 = 0x7fff_0000;
    /// The action part.
    pub const ACTION_FULL: u32 = 0xffff_0000;
    /// The data part.
    pub const DATA: u32 = 0x0000_ffff;
}

/// `AUDIT_ARCH_X86_64`.
pub const ARCH_X86_64: u32 = 0xc000_003e;
/// Longest filter (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;
/// Size of `struct seccomp_data`.
const DATA_LEN: u32 = 64;

// Classic BPF opcode parts.
const CLASS: u16 = 0x07;
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;

/// What a filter sees of a system call (`struct seccomp_data`).
pub struct Data {
    /// System call number.
    pub nr: i32,
    /// Address of the instruction after the `syscall`.
    pub ip: u64,
    /// Arguments.
    pub args: [u64; 6],
}

impl Data {
    fn word(&self, off: u32) -> u32 {
        match off {
            0 => self.nr as u32,
            4 => ARCH_X86_64,
            8 => self.ip as u32,
            12 => (self.ip >> 32) as u32,
            o => {
                let a = self.args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
        }
    }
}

/// Checks a filter as Linux does before accepting it: a known instruction
/// set, aligned loads inside `seccomp_data`, jumps that stay inside, and a
/// return at the end.
pub fn check(prog: &[Insn]) -> Result<(), Errno> {
    if prog.is_empty() || prog.len() > MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    for (pc, i) in prog.iter().enumerate() {
        let left = prog.len() - pc - 1;
        let ok = match i.code & CLASS {
            // Only absolute word loads (of seccomp_data), the length, and
            // immediates and scratch memory.
            LD | LDX => match i.code {
                0x20 => i.k.is_multiple_of(4) && i.k < DATA_LEN, // ld [k]
                0x80 | 0x81 => true,                             // ld/ldx len
                0x00 | 0x01 => true,                             // ld/ldx #k
                0x60 | 0x61 => i.k < 16,                         // ld/ldx M[k]
                _ => false,
            },
            ST | STX => i.k < 16,
            ALU => {
                let op = i.code & 0xf0;
                let imm_div0 = i.code & 0x08 == 0 && (op == 0x30 || op == 0x90) && i.k == 0;
                op <= 0xa0 && !imm_div0 && op != 0x80 || i.code == 0x84 // neg
            }
            JMP => match i.code & 0xf0 {
                0x00 => (i.k as usize) <= left, // ja
                0x10..=0x40 => (i.jt as usize) <= left && (i.jf as usize) <= left,
                _ => false,
            },
            RET => matches!(i.code, 0x06 | 0x16),
            MISC => matches!(i.code, 0x07 | 0x87),
            _ => false,
        };
        if !ok {
            return Err(Errno::EINVAL);
        }
    }
    if prog[prog.len() - 1].code & CLASS != RET {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Runs one (checked) filter.
fn run(prog: &[Insn], d: &Data) -> u32 {
    let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; 16]);
    let mut pc = 0;
    while pc < prog.len() {
        let i = prog[pc];
        pc += 1;
        match i.code & CLASS {
            LD => {
                a = match i.code {
                    0x20 => d.word(i.k),
                    0x80 => DATA_LEN,
                    0x60 => mem[i.k as usize],
                    _ => i.k,
                }
            }
            LDX => {
                x = match i.code {
                    0x81 => DATA_LEN,
                    0x61 => mem[i.k as usize],
                    _ => i.k,
                }
            }
            ST => mem[i.k as usize] = a,
            STX => mem[i.k as usize] = x,
            ALU => {
                let v = if i.code & 0x08 != 0 { x } else { i.k };
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(v),
                    0x10 => a.wrapping_sub(v),
                    0x20 => a.wrapping_mul(v),
                    0x30 => a.checked_div(v).unwrap_or(0),
                    0x40 => a | v,
                    0x50 => a & v,
                    0x60 => a.checked_shl(v).unwrap_or(0),
                    0x70 => a.checked_shr(v).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(v).unwrap_or(0),
                    _ => a ^ v,
                }
            }
            JMP => {
                let v = if i.code & 0x08 != 0 { x } else { i.k };
                let taken = match i.code & 0xf0 {
                    0x00 => {
                        pc += i.k as usize;
                        continue;
                    }
                    0x10 => a == v,
                    0x20 => a > v,
                    0x30 => a >= v,
                    _ => a & v != 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            RET => return if i.code == 0x16 { a } else { i.k },
            _ => {
                if i.code == 0x07 {
                    x = a;
                } else {
                    a = x;
                }
            }
        }
    }
    ret::KILL_PROCESS
}

impl Chain {
    /// `prog` (checked) on top of `prev`.
    pub fn push(prev: Option<Arc<Chain>>, prog: Vec<Insn>) -> Arc<Chain> {
        Arc::new(Chain { prog, prev })
    }

    /// The result for a system call: of every filter, the one with the
    /// highest precedence (the lowest action, as a signed number).
    pub fn evaluate(&self, d: &Data) -> u32 {
        let mut best = ret::ALLOW;
        let mut f = Some(self);
        while let Some(c) = f {
            let r = run(&c.prog, d);
            if ((r & ret::ACTION_FULL) as i32) < ((best & ret::ACTION_FULL) as i32) {
                best = r;
            }
            f = c.prev.as_deref();
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
        Insn {
            code: 0x15,
            jt,
            jf,
            k,
        }
    }

    /// Kill on getpid (39), EPERM on getppid (110), else allow.
    fn prog() -> Vec<Insn> {
        vec![
            stmt(0x20, 4),
            jeq(ARCH_X86_64, 1, 0),
            stmt(0x06, ret::KILL_PROCESS),
            stmt(0x20, 0),
            jeq(39, 0, 1),
            stmt(0x06, ret::KILL_THREAD),
            jeq(110, 0, 1),
            stmt(0x06, ret::ERRNO | 1),
            stmt(0x06, ret::ALLOW),
        ]
    }

    fn data(nr: i32) -> Data {
        Data {
            nr,
            ip: 0,
            args: [0; 6],
        }
    }

    #[test]
    fn filter_results() {
        let p = prog();
        check(&p).unwrap();
        let c = Chain::push(None, p);
        assert_eq!(c.evaluate(&data(39)), ret::KILL_THREAD);
        assert_eq!(c.evaluate(&data(110)), ret::ERRNO | 1);
        assert_eq!(c.evaluate(&data(0)), ret::ALLOW);
    }

    #[test]
    fn stricter_filter_wins() {
        let allow = vec![stmt(0x06, ret::ALLOW)];
        let errno = vec![stmt(0x06, ret::ERRNO | 5)];
        let c = Chain::push(Some(Chain::push(None, errno)), allow);
        assert_eq!(c.evaluate(&data(1)), ret::ERRNO | 5);
    }

    #[test]
    fn bad_filters_are_refused() {
        assert_eq!(check(&[]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(0x20, 2), stmt(0x06, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(0x20, 64), stmt(0x06, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&[jeq(1, 5, 0), stmt(0x06, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(0x20, 0)]), Err(Errno::EINVAL));
    }
}
