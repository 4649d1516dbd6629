//! Protobuf wire format primitives.

/// One decoded field value, as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireVal<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

pub(crate) const WT_VARINT: u8 = 0;
pub(crate) const WT_LEN: u8 = 2;

/// Reads a varint at `*pos`, advancing it.
pub(crate) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

/// Splits a message into its (field number, value) pairs, in wire order.
pub(crate) fn parse_fields(buf: &[u8]) -> Result<Vec<(u32, WireVal<'_>)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = read_varint(buf, &mut pos)?;
        let num = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        if num == 0 {
            return Err("field number 0".into());
        }
        let val = match (key & 7) as u8 {
            WT_VARINT => WireVal::Varint(read_varint(buf, &mut pos)?),
            1 => {
                let b: [u8; 8] = take(buf, &mut pos, 8)?.try_into().map_err(|_| "fixed64")?;
                WireVal::Fixed64(u64::from_le_bytes(b))
            }
            WT_LEN => {
                let len = read_varint(buf, &mut pos)?;
                let len = usize::try_from(len).map_err(|_| "length out of range")?;
                WireVal::Bytes(take(buf, &mut pos, len)?)
            }
            5 => {
                let b: [u8; 4] = take(buf, &mut pos, 4)?.try_into().map_err(|_| "fixed32")?;
                WireVal::Fixed32(u32::from_le_bytes(b))
            }
            wt => return Err(format!("unsupported wire type {wt} (field {num})")),
        };
        out.push((num, val));
    }
    Ok(out)
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos.checked_add(n).filter(|&e| e <= buf.len());
    let end = end.ok_or("truncated message")?;
    let s = &buf[*pos..end];
    *pos = end;
    Ok(s)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_key(out: &mut Vec<u8>, num: u32, wt: u8) {
    put_varint(out, (u64::from(num) << 3) | u64::from(wt));
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, num: u32, data: &[u8]) {
    put_key(out, num, WT_LEN);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

pub(crate) fn put_uint(out: &mut Vec<u8>, num: u32, v: u64) {
    put_key(out, num, WT_VARINT);
    put_varint(out, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(read_varint(&b, &mut pos).unwrap(), v);
            assert_eq!(pos, b.len());
        }
        assert!(read_varint(&[0x80], &mut 0).is_err());
    }

    #[test]
    fn fields() {
        let mut b = Vec::new();
        put_uint(&mut b, 1, 150);
        put_bytes(&mut b, 2, b"hi");
        let f = parse_fields(&b).unwrap();
        assert_eq!(
            f,
            vec![(1, WireVal::Varint(150)), (2, WireVal::Bytes(b"hi"))]
        );
        assert!(parse_fields(&[0x12, 0x05, b'a']).is_err());
        assert!(parse_fields(&[0x0b]).is_err(), "groups are not supported");
    }
}
