//! The per-connection TFO report, packed into one non-negative i32 for the C ABI:
//!
//!   bit 0  known        the platform reports TFO state for this socket
//!   bit 1  sent         data rode in the SYN
//!   bit 2  acked        the peer acknowledged the SYN data
//!   bit 3  established  the handshake has completed
//!   bits 8..15  reason  why not (Reason)
//!   bits 16..23 state   the platform's raw TCP state
const std = @import("std");
const assert = std.debug.assert;

/// Why SYN data was not sent or not acknowledged.
pub const Reason = enum(u8) {
    none = 0,
    /// No cookie for this server yet: the SYN asked for one.
    no_cookie = 1,
    /// Data went in the SYN but the server did not acknowledge it.
    data_not_acked = 2,
    /// The SYN was retransmitted (without the data).
    syn_retransmitted = 3,
    /// The platform's TFO heuristics disabled TFO (blackhole detection).
    blackhole = 4,
    /// The platform does not say.
    unknown = 5,
};

pub const Status = struct {
    known: bool,
    sent: bool,
    acked: bool,
    established: bool,
    reason: Reason,
    state: u8,
};

pub fn encode(s: Status) i32 {
    assert(!s.acked or s.sent);
    const flags: u32 = @as(u32, @intFromBool(s.known)) |
        @as(u32, @intFromBool(s.sent)) << 1 |
        @as(u32, @intFromBool(s.acked)) << 2 |
        @as(u32, @intFromBool(s.established)) << 3;
    const word: u32 = flags | @as(u32, @backingInt(s.reason)) << 8 | @as(u32, s.state) << 16;
    assert(word <= std.math.maxInt(i32));
    return @intCast(word);
}

pub fn decode(word: i32) Status {
    assert(word >= 0);
    const w: u32 = @intCast(word);
    return .{
        .known = w & 1 != 0,
        .sent = w & 2 != 0,
        .acked = w & 4 != 0,
        .established = w & 8 != 0,
        .reason = @fromBackingInt(@intCast(@as(u8, @truncate(w >> 8)))),
        .state = @truncate(w >> 16),
    };
}

test "encode and decode round-trip" {
    const s = Status{
        .known = true,
        .sent = true,
        .acked = false,
        .established = true,
        .reason = .data_not_acked,
        .state = 1,
    };
    try std.testing.expectEqual(s, decode(encode(s)));
}
