//! The container's capability sets. Neither nix nor any other dependency wraps capset(2)
//! or PR_CAPBSET_DROP, so this one file makes the two raw calls (the crate denies unsafe
//! code everywhere else).
#![allow(unsafe_code)]

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// This process's permitted set, from /proc (all the kernel knows if unreadable).
fn permitted() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("CapPrm:"))?;
            u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
        })
        .unwrap_or(u64::MAX >> (63 - last_cap().min(63)))
}

/// Drops every capability outside `keep` (a bit mask) from the bounding set, so that no
/// exec can gain it back. The effective set is untouched: switching user still works.
pub fn limit_bounding_set(keep: u64) -> Result<(), String> {
    for cap in 0..=last_cap() {
        if keep & (1 << cap) == 0 {
            // SAFETY: prctl with integer arguments only; no memory is shared.
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            if r != 0 {
                return Err(format!(
                    "dropping capability {cap} from the bounding set: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    }
    Ok(())
}

/// Sets the effective, permitted and inheritable sets to `caps` (only ever lowering
/// them: a process cannot raise its permitted set).
pub fn set(caps: u64) -> Result<(), String> {
    // Anything beyond what this process holds (bits the kernel does not know, or
    // capabilities the node itself lacks) would be raising the permitted set.
    let caps = caps & permitted();
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let word = |shift: u32| CapData {
        effective: (caps >> shift) as u32,
        permitted: (caps >> shift) as u32,
        inheritable: (caps >> shift) as u32,
    };
    let data = [word(0), word(32)];
    // SAFETY: the header and the two data words are live, properly laid out (repr(C))
    // and of the sizes version 3 expects for the duration of the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    if r != 0 {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
