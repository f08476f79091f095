//! ELF64 headers, parsed by hand from the file's bytes.

use crate::errno::Errno;

/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// `ET_EXEC`.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`.
pub const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;

/// The parts of the ELF header the loader needs.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// ET_EXEC or ET_DYN.
    pub kind: u16,
    /// Entry point (unrelocated).
    pub entry: u64,
    /// File offset of the program headers.
    pub phoff: u64,
    /// Size of one program header.
    pub phentsize: u16,
    /// Number of program headers.
    pub phnum: u16,
}

/// One program header.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Phdr {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Whether `b` starts like an ELF file.
pub fn is_elf(b: &[u8]) -> bool {
    b.len() >= 4 && &b[..4] == b"\x7fELF"
}

/// Parses and validates the ELF header; ENOEXEC for anything we cannot run.
pub fn parse_header(b: &[u8]) -> Result<Header, Errno> {
    if b.len() < 64 || !is_elf(b) || b[4] != 2 || b[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    let h = Header {
        kind: u16_at(b, 16),
        entry: u64_at(b, 24),
        phoff: u64_at(b, 32),
        phentsize: u16_at(b, 54),
        phnum: u16_at(b, 56),
    };
    if u16_at(b, 18) != EM_X86_64 || !(h.kind == ET_EXEC || h.kind == ET_DYN) {
        return Err(Errno::ENOEXEC);
    }
    if h.phentsize as usize != 56 || h.phnum == 0 || h.phnum > 128 {
        return Err(Errno::ENOEXEC);
    }
    Ok(h)
}

/// Parses the program header table.
pub fn parse_phdrs(b: &[u8], n: usize) -> Result<Vec<Phdr>, Errno> {
    if b.len() < n * 56 {
        return Err(Errno::ENOEXEC);
    }
    Ok((0..n)
        .map(|i| {
            let o = i * 56;
            Phdr {
                kind: u32_at(b, o),
                flags: u32_at(b, o + 4),
                offset: u64_at(b, o + 8),
                vaddr: u64_at(b, o + 16),
                filesz: u64_at(b, o + 32),
                memsz: u64_at(b, o + 40),
            }
        })
        .collect())
}
