//! A small nf_tables client that speaks netlink directly, so the bench can time what the
//! kernel alone costs for a change, with no `iptables-restore` or `nft` in the way.
//!
//! One batch is one transaction: `NFNL_MSG_BATCH_BEGIN`, the nf_tables messages (each
//! with `NLM_F_ACK`), `NFNL_MSG_BATCH_END`, sent with one `send`. The kernel checks every
//! message, then commits the batch or aborts all of it, and acks every message that asked
//! for it; the batch is done when every ack has arrived. It knows the few messages the
//! bench needs: new chain, new rule (counter, accept, jump), delete chain, in tables of
//! family `ip` (iptables-nft's `nat` is `ip nat`).
//!
//! Layout (uapi `linux/netlink.h`, `linux/netfilter/nfnetlink.h`,
//! `linux/netfilter/nf_tables.h`): a message is `nlmsghdr` (host order) and `nfgenmsg`
//! (family, version 0, `res_id` big-endian), then attributes: `nlattr` (length and type in
//! host order), the payload, padding to 4 bytes; nested attributes carry `NLA_F_NESTED`.
//! nf_tables integers in payloads are big-endian.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, send, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::{TimeVal, TimeValLike};

// linux/netlink.h
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLMSG_ERROR: u16 = 0x2;
const NLMSG_HDRLEN: usize = 16;
const NLA_F_NESTED: u16 = 0x8000;

// linux/netfilter/nfnetlink.h
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNETLINK_V0: u8 = 0;

// linux/netfilter.h
const NFPROTO_UNSPEC: u8 = 0;
const NFPROTO_IPV4: u8 = 2;

// linux/netfilter/nf_tables.h: enum nf_tables_msg_types.
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_DELCHAIN: u16 = 5;
const NFT_MSG_NEWRULE: u16 = 6;
// enum nft_chain_attributes
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
// enum nft_rule_attributes
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
// enum nft_list_attributes, enum nft_expr_attributes
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
// enum nft_immediate_attributes, enum nft_data_attributes, enum nft_verdict_attributes
const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;
// enum nft_registers, verdict codes (linux/netfilter.h NF_ACCEPT, enum nft_verdicts)
const NFT_REG_VERDICT: u32 = 0;
const NF_ACCEPT: i32 = 1;
const NFT_JUMP: i32 = -3;

/// How long a batch may wait for its acks before it is reported as unanswered.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// One expression of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `counter`: packets and bytes; no verdict, so no table validation.
    Counter,
    /// `immediate` verdict `accept`.
    Accept,
    /// `immediate` verdict `jump <chain>`.
    Jump(String),
}

/// One nf_tables message of a batch, in a table of family `ip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A new regular (unhooked) chain; refused if it exists.
    NewChain { table: String, chain: String },
    /// A rule appended to `chain`.
    NewRule {
        table: String,
        chain: String,
        exprs: Vec<Expr>,
    },
    /// Deletes `chain` with its rules; refused while another rule jumps to it.
    DelChain { table: String, chain: String },
}

impl Op {
    /// How errors name the message.
    fn describe(&self) -> String {
        match self {
            Op::NewChain { table, chain } => format!("NEWCHAIN ip {table} {chain}"),
            Op::NewRule {
                table,
                chain,
                exprs,
            } => format!("NEWRULE ip {table} {chain} {exprs:?}"),
            Op::DelChain { table, chain } => format!("DELCHAIN ip {table} {chain}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("nf_tables netlink socket: {0}")]
    Socket(#[from] Errno),
    /// The kernel's negative errno for a message. An error of the commit itself (e.g. the
    /// table's validation) comes back against the batch's first message.
    #[error("the kernel refused {message}: {errno} ({})", errno.desc())]
    Refused { message: String, errno: Errno },
    #[error("no ack for {message} within {timeout:?}")]
    NoAck { message: String, timeout: Duration },
    #[error("malformed netlink reply: {0}")]
    Malformed(&'static str),
}

/// A `NETLINK_NETFILTER` socket in the namespace of the thread that opened it.
pub struct NftSocket {
    fd: OwnedFd,
    seq: u32,
}

impl NftSocket {
    pub fn open() -> Result<NftSocket, NetlinkError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        let timeout = TimeVal::milliseconds(ACK_TIMEOUT.as_millis() as i64);
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)?;
        Ok(NftSocket { fd, seq: 1 })
    }

    /// Sends `ops` as one batch and waits for every ack: the time from the send to the
    /// last ack (the kernel's checks and commit), or the first message it refused (the
    /// whole batch is then undone by the kernel).
    pub fn commit(&mut self, ops: &[Op]) -> Result<Duration, NetlinkError> {
        let (bytes, begin, sent) = self.encode(ops);
        let start = Instant::now();
        send(self.fd.as_raw_fd(), &bytes, MsgFlags::empty())?;
        let errors = self.read_acks(begin, &sent)?;
        let took = start.elapsed();
        match errors.into_iter().next() {
            Some((message, errno)) => Err(NetlinkError::Refused { message, errno }),
            None => Ok(took),
        }
    }

    /// The batch's bytes, the sequence number of its begin marker, and the sequence number
    /// and description of each message.
    fn encode(&mut self, ops: &[Op]) -> (Vec<u8>, u32, Vec<(u32, String)>) {
        let mut buf = Vec::with_capacity(256);
        let mut sent = Vec::with_capacity(ops.len());
        let subsystem = NFNL_SUBSYS_NFTABLES.to_be_bytes();
        let begin = self.next_seq();
        batch_marker(&mut buf, NFNL_MSG_BATCH_BEGIN, begin, subsystem);
        for op in ops {
            let seq = self.next_seq();
            encode_op(&mut buf, op, seq);
            sent.push((seq, op.describe()));
        }
        batch_marker(&mut buf, NFNL_MSG_BATCH_END, self.next_seq(), subsystem);
        (buf, begin, sent)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Reads until every message in `sent` has its ack; the refusals, in batch order.
    /// The markers ask for no ack (kernels before 6.10 never send one), but an error
    /// against the begin marker is the batch's.
    fn read_acks(
        &self,
        begin: u32,
        sent: &[(u32, String)],
    ) -> Result<Vec<(String, Errno)>, NetlinkError> {
        let mut acked = vec![false; sent.len()];
        let mut errors: Vec<Option<Errno>> = vec![None; sent.len()];
        let mut batch_error = None;
        let mut buf = vec![0u8; 64 * 1024];
        while let Some(waiting) = acked.iter().position(|a| !a) {
            let n = match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => n,
                // Once the kernel has refused a message it may stop acking (ENOMEM):
                // the refusal is the answer.
                Err(Errno::EAGAIN)
                    if errors.iter().any(Option::is_some) || batch_error.is_some() =>
                {
                    break
                }
                Err(Errno::EAGAIN) => {
                    return Err(NetlinkError::NoAck {
                        message: sent[waiting].1.clone(),
                        timeout: ACK_TIMEOUT,
                    })
                }
                Err(e) => return Err(e.into()),
            };
            for (seq, errno) in parse_acks(&buf[..n])? {
                if seq == begin && errno != 0 {
                    batch_error.get_or_insert(Errno::from_raw(-errno));
                }
                let Some(i) = sent.iter().position(|(s, _)| *s == seq) else {
                    continue;
                };
                acked[i] = true;
                // The commit's error arrives before the message's own ack: keep the first.
                if errno != 0 && errors[i].is_none() {
                    errors[i] = Some(Errno::from_raw(-errno));
                }
            }
        }
        Ok(sent
            .iter()
            .zip(errors)
            .filter_map(|((_, message), e)| e.map(|e| (message.clone(), e)))
            .chain(batch_error.map(|e| ("the batch".to_string(), e)))
            .collect())
    }
}

/// The `(seq, error)` of every `NLMSG_ERROR` in one datagram (error 0 is an ack).
fn parse_acks(mut data: &[u8]) -> Result<Vec<(u32, i32)>, NetlinkError> {
    let mut acks = vec![];
    while data.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(data[0..4].try_into().expect("4 bytes")) as usize;
        if len < NLMSG_HDRLEN || len > data.len() {
            return Err(NetlinkError::Malformed("message length out of bounds"));
        }
        let kind = u16::from_ne_bytes(data[4..6].try_into().expect("2 bytes"));
        let seq = u32::from_ne_bytes(data[8..12].try_into().expect("4 bytes"));
        if kind == NLMSG_ERROR {
            let error = data
                .get(NLMSG_HDRLEN..NLMSG_HDRLEN + 4)
                .ok_or(NetlinkError::Malformed("NLMSG_ERROR without its error"))?;
            acks.push((seq, i32::from_ne_bytes(error.try_into().expect("4 bytes"))));
        }
        data = data.get(align(len)..).unwrap_or_default();
    }
    Ok(acks)
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// `NFNL_MSG_BATCH_BEGIN`/`END`: family unspecified, `res_id` the subsystem.
fn batch_marker(buf: &mut Vec<u8>, kind: u16, seq: u32, subsystem: [u8; 2]) {
    let start = message_header(buf, kind, NLM_F_REQUEST, seq);
    buf.extend_from_slice(&[NFPROTO_UNSPEC, NFNETLINK_V0, subsystem[0], subsystem[1]]);
    finish_message(buf, start);
}

fn encode_op(buf: &mut Vec<u8>, op: &Op, seq: u32) {
    let nft = |msg: u16| (NFNL_SUBSYS_NFTABLES << 8) | msg;
    let start = match op {
        Op::NewChain { table, chain } => {
            let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
            let start = nft_header(buf, nft(NFT_MSG_NEWCHAIN), flags, seq);
            attr_str(buf, NFTA_CHAIN_TABLE, table);
            attr_str(buf, NFTA_CHAIN_NAME, chain);
            start
        }
        Op::NewRule {
            table,
            chain,
            exprs,
        } => {
            let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
            let start = nft_header(buf, nft(NFT_MSG_NEWRULE), flags, seq);
            attr_str(buf, NFTA_RULE_TABLE, table);
            attr_str(buf, NFTA_RULE_CHAIN, chain);
            nested(buf, NFTA_RULE_EXPRESSIONS, |buf| {
                for expr in exprs {
                    nested(buf, NFTA_LIST_ELEM, |buf| encode_expr(buf, expr));
                }
            });
            start
        }
        Op::DelChain { table, chain } => {
            let start = nft_header(buf, nft(NFT_MSG_DELCHAIN), NLM_F_REQUEST | NLM_F_ACK, seq);
            attr_str(buf, NFTA_CHAIN_TABLE, table);
            attr_str(buf, NFTA_CHAIN_NAME, chain);
            start
        }
    };
    finish_message(buf, start);
}

fn encode_expr(buf: &mut Vec<u8>, expr: &Expr) {
    match expr {
        Expr::Counter => {
            attr_str(buf, NFTA_EXPR_NAME, "counter");
            nested(buf, NFTA_EXPR_DATA, |_| {});
        }
        Expr::Accept => immediate_verdict(buf, NF_ACCEPT, None),
        Expr::Jump(chain) => immediate_verdict(buf, NFT_JUMP, Some(chain)),
    }
}

/// `immediate`: the verdict register gets `code` (and, for a jump, the chain).
fn immediate_verdict(buf: &mut Vec<u8>, code: i32, chain: Option<&str>) {
    attr_str(buf, NFTA_EXPR_NAME, "immediate");
    nested(buf, NFTA_EXPR_DATA, |buf| {
        attr(buf, NFTA_IMMEDIATE_DREG, &NFT_REG_VERDICT.to_be_bytes());
        nested(buf, NFTA_IMMEDIATE_DATA, |buf| {
            nested(buf, NFTA_DATA_VERDICT, |buf| {
                attr(buf, NFTA_VERDICT_CODE, &code.to_be_bytes());
                if let Some(chain) = chain {
                    attr_str(buf, NFTA_VERDICT_CHAIN, chain);
                }
            });
        });
    });
}

/// An nf_tables message header (family `ip`, version 0, `res_id` 0); returns its start.
fn nft_header(buf: &mut Vec<u8>, kind: u16, flags: u16, seq: u32) -> usize {
    let start = message_header(buf, kind, flags, seq);
    buf.extend_from_slice(&[NFPROTO_IPV4, NFNETLINK_V0, 0, 0]);
    start
}

/// `nlmsghdr` with its length left to [`finish_message`]; returns its start.
fn message_header(buf: &mut Vec<u8>, kind: u16, flags: u16, seq: u32) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid: 0, the kernel fills in the sender.
    buf.extend_from_slice(&0u32.to_ne_bytes());
    start
}

fn finish_message(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

fn attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len() + align(len) - len, 0);
}

/// A NUL-terminated string attribute, as the kernel's `NLA_STRING` names are sent.
fn attr_str(buf: &mut Vec<u8>, kind: u16, s: &str) {
    let mut payload = Vec::with_capacity(s.len() + 1);
    payload.extend_from_slice(s.as_bytes());
    payload.push(0);
    attr(buf, kind, &payload);
}

/// A nested attribute holding what `inner` writes (aligned attributes, so its length
/// needs no padding).
fn nested(buf: &mut Vec<u8>, kind: u16, inner: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    inner(buf);
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    buf[start + 2..start + 4].copy_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
}

#[cfg(test)]
mod tests;
