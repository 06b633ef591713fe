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

/// One connection's TFO outcome, as the platform file reads it.
pub const Status = struct {
    known: bool,
    sent: bool,
    acked: bool,
    established: bool,
    reason: Reason,
    state: u8,
};

/// Packs `s` into the word described above (never negative; acked implies sent).
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

/// Unpacks a word made by `encode`.
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

test "encode puts each field at its documented bits" {
    const all = Status{
        .known = true,
        .sent = true,
        .acked = true,
        .established = true,
        .reason = .blackhole,
        .state = 0xab,
    };
    try std.testing.expectEqual(@as(i32, 0x00ab_040f), encode(all));
    const none = Status{
        .known = false,
        .sent = false,
        .acked = false,
        .established = false,
        .reason = .none,
        .state = 0,
    };
    try std.testing.expectEqual(@as(i32, 0), encode(none));
}

test "decode reads each bit on its own" {
    try std.testing.expect(decode(1).known and !decode(1).sent);
    try std.testing.expect(decode(2).sent and !decode(2).known);
    try std.testing.expect(decode(2 | 4).acked);
    try std.testing.expect(decode(8).established and !decode(8).acked);
    try std.testing.expectEqual(@as(u8, 0xff), decode(0x00ff_0000).state);
    try std.testing.expectEqual(Reason.none, decode(0x00ff_0000).reason);
}

test "every reason and state round-trips, the word stays non-negative" {
    for ([_]Reason{ .none, .no_cookie, .data_not_acked, .syn_retransmitted, .blackhole, .unknown }) |reason| {
        for ([_]u8{ 0, 1, 7, 10, 255 }) |state| {
            const s = Status{
                .known = state % 2 == 0,
                .sent = true,
                .acked = reason == .none,
                .established = state == 1,
                .reason = reason,
                .state = state,
            };
            const word = encode(s);
            try std.testing.expect(word >= 0);
            try std.testing.expectEqual(s, decode(word));
        }
    }
}
