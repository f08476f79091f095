//! The program loader: ELF executables (static, dynamic, PIE), `#!`
//! scripts, and the initial stack with argv, envp and the auxiliary vector.

pub mod elf;

use std::sync::Arc;

use platform::{Perms, Regs};

use crate::errno::Errno;
use crate::kernel::vdso::Vdso;
use crate::mm::{page_down, page_up, Backing, MemoryManager, Placement, PAGE, STACK_SIZE};
use crate::vfs::path::Walker;
use crate::vfs::{Dentry, File};
use elf::{Phdr, ET_DYN, PT_INTERP, PT_LOAD, PT_PHDR};

/// Where non-fixed (PIE) executables are loaded, as Linux does without ASLR.
const PIE_BASE: u64 = 0x5555_5555_4000;
/// `#!` nesting limit (Linux allows 4 levels of interpreters).
const MAX_INTERP_DEPTH: usize = 4;
/// Linux's BINPRM_BUF_SIZE: how much of a `#!` line is read.
const BINPRM_BUF: usize = 256;

/// What the loader needs from the task that execs.
pub struct ExecArgs<'a> {
    /// Path walk context.
    pub walker: Walker<'a>,
    /// Path of the program as given to execve.
    pub path: Vec<u8>,
    /// argv.
    pub argv: Vec<Vec<u8>>,
    /// envp.
    pub envp: Vec<Vec<u8>>,
    /// (uid, euid, gid, egid) for the auxv.
    pub ids: (u32, u32, u32, u32),
}

/// A loaded program, ready to run.
pub struct Image {
    /// Initial registers.
    pub regs: Regs,
    /// The executable file (after `#!` resolution).
    pub exe: Arc<Dentry>,
    /// The name for /proc/self/comm: the basename of the path.
    pub comm: Vec<u8>,
}

fn open_exec(walker: &Walker<'_>, path: &[u8]) -> Result<(Arc<Dentry>, Arc<File>), Errno> {
    let d = walker.walk(path, true)?;
    let st = d.inode.stat()?;
    if st.file_type() != libc::S_IFREG {
        return Err(Errno::EACCES);
    }
    if st.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    let ops = d.inode.clone().open(libc::O_RDONLY)?;
    Ok((d.clone(), File::new(ops, Some(d), libc::O_RDONLY)))
}

fn read_at(f: &File, off: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let n = f.ops.read(&mut buf[done..], off + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(buf)
}

/// Splits a `#!` line into interpreter and optional argument.
fn parse_shebang(head: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), Errno> {
    let line = &head[2..];
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(i) => &line[..i],
        None => line,
    };
    let trimmed: &[u8] = {
        let s = line
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(line.len());
        let e = line
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t' && b != b'\r')
            .map_or(s, |e| e + 1);
        &line[s..e.max(s)]
    };
    if trimmed.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    match trimmed.iter().position(|&b| b == b' ' || b == b'\t') {
        Some(i) => {
            let arg = &trimmed[i..];
            let s = arg
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(0);
            Ok((trimmed[..i].to_vec(), Some(arg[s..].to_vec())))
        }
        None => Ok((trimmed.to_vec(), None)),
    }
}

/// An ELF object opened and parsed.
struct Object {
    dentry: Arc<Dentry>,
    file: Arc<File>,
    hdr: elf::Header,
    phdrs: Vec<Phdr>,
}

fn parse_object(dentry: Arc<Dentry>, file: Arc<File>, head: &[u8]) -> Result<Object, Errno> {
    let hdr = elf::parse_header(head)?;
    let phdrs = elf::parse_phdrs(
        &read_at(&file, hdr.phoff, hdr.phnum as usize * 56)?,
        hdr.phnum as usize,
    )?;
    Ok(Object {
        dentry,
        file,
        hdr,
        phdrs,
    })
}

/// A program resolved and checked (`#!`, ELF headers, interpreter), so that
/// the caller can give up the old image only once nothing about the files
/// can fail any more.
pub struct Prepared {
    exe: Object,
    interp: Option<Object>,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    execfn: Vec<u8>,
    path: Vec<u8>,
    ids: (u32, u32, u32, u32),
}

/// Resolves and checks `args.path` without touching any address space.
pub fn prepare(mut args: ExecArgs<'_>) -> Result<Prepared, Errno> {
    let execfn = args.path.clone();
    let mut depth = 0;
    let (exe, file, head) = loop {
        let (d, f) = open_exec(&args.walker, &args.path)?;
        let head = read_at(&f, 0, BINPRM_BUF)?;
        if head.starts_with(b"#!") {
            depth += 1;
            if depth > MAX_INTERP_DEPTH {
                return Err(Errno::ELOOP);
            }
            let (interp, arg) = parse_shebang(&head)?;
            let mut argv = vec![interp.clone()];
            argv.extend(arg);
            argv.push(args.path.clone());
            argv.extend(args.argv.into_iter().skip(1));
            args.argv = argv;
            args.path = interp;
            continue;
        }
        break (d, f, head);
    };
    let exe = parse_object(exe, file, &head)?;
    let interp = match exe.phdrs.iter().find(|p| p.kind == PT_INTERP) {
        Some(p) => {
            let raw = read_at(&exe.file, p.offset, p.filesz.min(4096) as usize)?;
            let path: Vec<u8> = raw.into_iter().take_while(|&b| b != 0).collect();
            let (id, ifile) = open_exec(&args.walker, &path).map_err(|e| {
                if e == Errno::EACCES {
                    Errno::EACCES
                } else {
                    Errno::ENOENT
                }
            })?;
            let ihead = read_at(&ifile, 0, 64)?;
            Some(parse_object(id, ifile, &ihead)?)
        }
        None => None,
    };
    Ok(Prepared {
        exe,
        interp,
        argv: args.argv,
        envp: args.envp,
        execfn,
        path: args.path,
        ids: args.ids,
    })
}

/// Loads `args.path` into the fresh address space `mm`.
pub fn load(mm: &MemoryManager, args: ExecArgs<'_>, vdso: Option<&Vdso>) -> Result<Image, Errno> {
    map(mm, prepare(args)?, vdso)
}

/// Maps a prepared program into the empty address space `mm` and builds
/// its stack.
pub fn map(mm: &MemoryManager, p: Prepared, vdso: Option<&Vdso>) -> Result<Image, Errno> {
    let Object {
        dentry: exe,
        file,
        hdr,
        phdrs,
    } = p.exe;
    let (bias, brk) = map_segments(mm, &file, &phdrs, hdr.kind == ET_DYN, &exe)?;
    let mut interp_base = 0;
    let mut entry = hdr.entry + bias;
    if let Some(i) = &p.interp {
        let (ibias, _) = map_segments(mm, &i.file, &i.phdrs, true, &i.dentry)?;
        interp_base = ibias;
        entry = i.hdr.entry + ibias;
    }
    mm.set_brk_start(brk);
    let vdso_addr = match vdso {
        Some(v) => mm.map_vdso(&v.params, &v.image, v.image_len)?,
        None => 0,
    };

    let phdr_addr = match phdrs.iter().find(|p| p.kind == PT_PHDR) {
        Some(p) => p.vaddr + bias,
        None => {
            let first = phdrs
                .iter()
                .find(|p| p.kind == PT_LOAD && p.offset <= hdr.phoff)
                .ok_or(Errno::ENOEXEC)?;
            first.vaddr - first.offset + hdr.phoff + bias
        }
    };
    let aux = Auxv {
        phdr: phdr_addr,
        phnum: hdr.phnum as u64,
        base: interp_base,
        entry: hdr.entry + bias,
        ids: p.ids,
        vdso: vdso_addr,
    };
    let sp = build_stack(mm, &p.argv, &p.envp, &p.execfn, &aux)?;
    let regs = Regs {
        rip: entry,
        rsp: sp,
        eflags: 0x202,
        ..Regs::default()
    };
    let comm = p
        .path
        .rsplit(|&b| b == b'/')
        .next()
        .unwrap_or(&[])
        .iter()
        .take(15)
        .copied()
        .collect();
    Ok(Image { regs, exe, comm })
}

fn perms_of(p: &Phdr) -> Perms {
    Perms {
        read: p.flags & 4 != 0,
        write: p.flags & 2 != 0,
        exec: p.flags & 1 != 0,
    }
}

/// Maps the PT_LOAD segments; returns the load bias and the end of the
/// highest segment (the start of the heap).
fn map_segments(
    mm: &MemoryManager,
    file: &Arc<File>,
    phdrs: &[Phdr],
    relocatable: bool,
    dentry: &Arc<Dentry>,
) -> Result<(u64, u64), Errno> {
    let loads: Vec<&Phdr> = phdrs.iter().filter(|p| p.kind == PT_LOAD).collect();
    if loads.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let lo = page_down(loads.iter().map(|p| p.vaddr).min().unwrap());
    let hi = page_up(loads.iter().map(|p| p.vaddr + p.memsz).max().unwrap());
    if hi <= lo {
        return Err(Errno::ENOEXEC);
    }
    let bias = if relocatable {
        // Reserve the whole span so the segments land together.
        let place = if lo == 0 && !is_interp_span(phdrs) {
            Placement::Hint(PIE_BASE)
        } else {
            Placement::Hint(0)
        };
        let base = mm.mmap(place, hi - lo, Perms::NONE, false, Backing::Anon)?;
        base - lo
    } else {
        0
    };
    let name: Arc<str> = String::from_utf8_lossy(&dentry.path()).into();
    let cache_key = crate::mm::cache_key(&file.ops.stat()?);
    for p in loads {
        if p.filesz > p.memsz {
            return Err(Errno::ENOEXEC);
        }
        let perms = perms_of(p);
        let start = page_down(p.vaddr + bias);
        let file_end = p.vaddr + bias + p.filesz;
        let mem_end = page_up(p.vaddr + bias + p.memsz);
        if p.filesz > 0 {
            let len = page_up(file_end) - start;
            let place = Placement::Fixed(start);
            let backing = Backing::File {
                source: file.clone(),
                offset: page_down(p.offset),
                name: name.clone(),
                cache_key,
            };
            mm.mmap(place, len, perms, false, backing)?;
            // The rest of the last file page belongs to bss: zero it.
            let tail = page_up(file_end) - file_end;
            if p.memsz > p.filesz && tail > 0 {
                mm.poke(file_end, &vec![0u8; tail as usize])?;
            } else if tail > 0 {
                // Bytes past the segment in its last page are zero in Linux
                // only when they are past EOF; keep what the file has.
            }
        }
        let anon_start = page_up(file_end).max(start);
        if mem_end > anon_start {
            mm.mmap(
                Placement::Fixed(anon_start),
                mem_end - anon_start,
                perms,
                false,
                Backing::Anon,
            )?;
        }
    }
    Ok((bias, hi + bias))
}

/// ld.so itself is ET_DYN too; it is placed by mmap rather than at PIE_BASE.
fn is_interp_span(phdrs: &[Phdr]) -> bool {
    !phdrs.iter().any(|p| p.kind == PT_INTERP) && !phdrs.iter().any(|p| p.kind == PT_PHDR)
}

struct Auxv {
    vdso: u64,
    phdr: u64,
    phnum: u64,
    base: u64,
    entry: u64,
    ids: (u32, u32, u32, u32),
}

/// AT_HWCAP: CPUID leaf 1's edx, asked once (CPUID traps to the
/// hypervisor in a virtual machine and costs microseconds).
fn hwcap() -> u64 {
    static HWCAP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HWCAP.get_or_init(|| std::arch::x86_64::__cpuid(1).edx as u64)
}

/// Writes strings, argv, envp and auxv on a new stack; returns the initial rsp.
fn build_stack(
    mm: &MemoryManager,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    aux: &Auxv,
) -> Result<u64, Errno> {
    let top = mm.stack_top();
    let rw = Perms {
        read: true,
        write: true,
        exec: false,
    };
    mm.mmap(
        Placement::Fixed(top - STACK_SIZE),
        STACK_SIZE,
        rw,
        false,
        Backing::Anon,
    )?;
    let mut sp = top - 8;
    let mut push_bytes = |data: &[u8], nul: bool| -> Result<u64, Errno> {
        let len = data.len() as u64 + nul as u64;
        if len > STACK_SIZE / 4 {
            return Err(Errno::E2BIG);
        }
        sp -= len;
        mm.copy_out(sp, data)?;
        if nul {
            mm.copy_out(sp + data.len() as u64, &[0])?;
        }
        Ok(sp)
    };
    let execfn_ptr = push_bytes(execfn, true)?;
    let mut env_ptrs = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_ptrs.push(push_bytes(e, true)?);
    }
    env_ptrs.reverse();
    let mut arg_ptrs = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_ptrs.push(push_bytes(a, true)?);
    }
    arg_ptrs.reverse();
    let platform_ptr = push_bytes(b"x86_64", true)?;
    let mut random = [0u8; 16];
    getrandom(&mut random);
    let random_ptr = push_bytes(&random, false)?;

    let auxv: [(u64, u64); 20] = [
        (libc::AT_SYSINFO_EHDR, aux.vdso),
        (libc::AT_PHDR, aux.phdr),
        (libc::AT_PHENT, 56),
        (libc::AT_PHNUM, aux.phnum),
        (libc::AT_PAGESZ, PAGE),
        (libc::AT_BASE, aux.base),
        (libc::AT_FLAGS, 0),
        (libc::AT_ENTRY, aux.entry),
        (libc::AT_UID, aux.ids.0 as u64),
        (libc::AT_EUID, aux.ids.1 as u64),
        (libc::AT_GID, aux.ids.2 as u64),
        (libc::AT_EGID, aux.ids.3 as u64),
        (libc::AT_SECURE, 0),
        (libc::AT_RANDOM, random_ptr),
        (libc::AT_HWCAP, hwcap()),
        (libc::AT_HWCAP2, 0),
        (libc::AT_CLKTCK, 100),
        (libc::AT_EXECFN, execfn_ptr),
        (libc::AT_PLATFORM, platform_ptr),
        (libc::AT_NULL, 0),
    ];
    let words = 1 + arg_ptrs.len() + 1 + env_ptrs.len() + 1 + 2 * auxv.len();
    let mut table: Vec<u64> = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(&arg_ptrs);
    table.push(0);
    table.extend(&env_ptrs);
    table.push(0);
    for (k, v) in auxv {
        table.push(k);
        table.push(v);
    }
    let start = (sp - words as u64 * 8) & !15;
    let bytes: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();
    mm.copy_out(start, &bytes)?;
    Ok(start)
}

/// Fills `buf` with random bytes from the host.
pub fn getrandom(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writes within buf.
        let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if r > 0 {
            done += r as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_shebang;

    #[test]
    fn shebang_forms() {
        assert_eq!(
            parse_shebang(b"#!/bin/sh\necho").unwrap(),
            (b"/bin/sh".to_vec(), None)
        );
        assert_eq!(
            parse_shebang(b"#! /usr/bin/env  python3 -u\n").unwrap(),
            (b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec()))
        );
        assert!(parse_shebang(b"#!\n").is_err());
    }
}
