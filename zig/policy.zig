//! The TFO policy: try the platform's TFO call, tell a refusal of the TFO
//! path itself (TFO off, too old a kernel) from a failure of the connection,
//! fall back to the plain path with the same contract, and remember the
//! refusal for a while (`refusal_memory_ms`) so that the connects meanwhile
//! go straight to the plain path; the first one after it tries TFO again,
//! as the setting may have changed.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const addr = @import("addr.zig");
const socket = @import("socket.zig");
const platform = sys.platform;
const Error = sys.Error;

/// How long a refusal of the TFO path is remembered, in ms: long enough to
/// spare a busy client a failing TFO call per connect, short enough that TFO
/// comes back soon after the setting allows it again.
pub const refusal_memory_ms: u32 = 1000;

/// Until when (monotonic ms) the last refusal holds; 0 when none is
/// remembered. Within it, TFO calls go straight to connect (+ send).
var refusal_until = std.atomic.Value(u64).init(0);

/// True while a refusal is remembered: connects take the plain path.
pub fn refused() bool {
    return refused_for_ms() > 0;
}

/// Milliseconds the remembered refusal still holds; 0 when none is.
pub fn refused_for_ms() u32 {
    const until = refusal_until.load(.acquire);
    if (until == 0) return 0;
    return remaining_ms(until, sys.monotonic_ms());
}

/// What is left of a refusal held until `until` at `now`.
fn remaining_ms(until: u64, now: u64) u32 {
    if (until <= now) return 0;
    const left = until - now;
    assert(left <= refusal_memory_ms);
    return @intCast(left);
}

/// Forgets a refusal, so the next call tries TFO again.
pub fn reset() void {
    refusal_until.store(0, .release);
}

fn remember_refusal() void {
    refusal_until.store(sys.monotonic_ms() + refusal_memory_ms, .release);
}

/// Linux refuses TFO only with EOPNOTSUPP (client bit off in
/// net.ipv4.tcp_fastopen) or ENOPROTOOPT (no TCP_FASTOPEN_CONNECT, before
/// 4.11). Its EINVAL and EPIPE come from the socket (already connected, the
/// pending error of an earlier connection that was reset), never from TFO.
const linux = std.mem.eql(u8, platform.name, "linux");

/// True for an error by which this platform refuses the TFO path itself
/// (rather than the connection).
pub fn is_refusal(err: Error) bool {
    return refusal_on(linux, err);
}

/// `is_refusal` on Linux (`on_linux`) or on macOS/FreeBSD, whose TFO calls
/// also refuse with EINVAL or EPIPE.
fn refusal_on(on_linux: bool, err: Error) bool {
    if (err == error.OPNOTSUPP or err == error.NOPROTOOPT) return true;
    return !on_linux and (err == error.INVAL or err == error.PIPE);
}

/// Connects stream socket `fd` to `[ip]:port` with `buf[0..len]` in the SYN:
/// the bytes sent or queued. error.INPROGRESS on a non-blocking socket when
/// nothing was queued (no cookie yet); then the whole buffer is still unsent.
pub fn fastopen_connect(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    assert(len <= std.math.maxInt(i32));
    const target = try socket.target_for(fd, ip, port, scope_id);
    return with_fallback(SynData{ .fd = fd, .target = &target, .buf = buf, .len = len });
}

/// Lazy TFO: connects stream socket `fd` to `[ip]:port` now, the SYN leaves
/// with the first write (where the platform has a lazy mode; elsewhere a
/// plain connect).
pub fn fastopen_lazy(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) Error!void {
    assert(fd >= 0);
    const target = try socket.target_for(fd, ip, port, scope_id);
    return with_fallback(Lazy{ .fd = fd, .target = &target });
}

/// The SYN-data connect: the platform's TFO call, or connect then send what
/// the socket takes now.
const SynData = struct {
    fd: i32,
    target: *const addr.Target,
    buf: [*]const u8,
    len: u32,

    const Result = u32;

    fn fastopen(self: SynData) Error!u32 {
        return platform.fastopen_connect(self.fd, self.target.ptr(), self.target.len(), self.buf, self.len);
    }

    fn plain(self: SynData) Error!u32 {
        try socket.connect_to(self.fd, self.target);
        if (self.len == 0) return 0;
        return socket.send_all(self.fd, self.buf, self.len);
    }

    fn has_peer(self: SynData) bool {
        return socket.has_peer(self.fd);
    }
};

/// The lazy connect: the platform's lazy TFO call, or a plain connect.
const Lazy = struct {
    fd: i32,
    target: *const addr.Target,

    const Result = void;

    fn fastopen(self: Lazy) Error!void {
        return platform.fastopen_lazy(self.fd, self.target.ptr(), self.target.len());
    }

    fn plain(self: Lazy) Error!void {
        return socket.connect_to(self.fd, self.target);
    }

    fn has_peer(self: Lazy) bool {
        return socket.has_peer(self.fd);
    }
};

/// The one refusal fallback, shared by the SYN-data and lazy paths.
/// `attempt` has `fastopen()`, `plain()` (both `Error!Result`) and
/// `has_peer()`. While a refusal is remembered, only `plain()` runs. When
/// `fastopen()` fails with a refusal, `plain()` runs instead, and the refusal
/// is remembered if the plain path then started the connection, unless the
/// socket already had a peer: a TFO step fails on such a socket because the
/// socket is past connecting (Linux: TCP_FASTOPEN_CONNECT on an established
/// socket is EINVAL), not because the platform refuses TFO, and that must
/// not turn TFO off for the rest of the process.
fn with_fallback(attempt: anytype) Error!@TypeOf(attempt).Result {
    if (refused()) return attempt.plain();
    if (attempt.fastopen()) |value| {
        return value;
    } else |err| {
        if (!is_refusal(err)) return err;
    }
    const past_connecting = attempt.has_peer();
    const outcome = attempt.plain();
    if (!past_connecting and started(outcome)) remember_refusal();
    return outcome;
}

/// True when a connect call's outcome means the connection is under way:
/// success, or error.INPROGRESS.
fn started(outcome: anytype) bool {
    if (outcome) |_| {
        return true;
    } else |err| {
        return err == error.INPROGRESS;
    }
}

/// How `start` starts the connection.
pub const Mode = enum(u32) { plain = 0, syn_data = 1, lazy = 2 };

/// The stage a `start` failure happened in.
pub const Stage = enum(i32) { socket = 0, connect = 1 };

/// A connection `start` began.
pub const Started = struct {
    fd: i32,
    /// Bytes the connect queued; null when it is in progress with nothing
    /// queued (error.INPROGRESS, which is not a failure here).
    queued: ?u32,
    /// The platform refused TFO and the plain path was taken.
    refused: bool,
};

/// One call for a whole non-blocking connect start: a new socket (AF_INET
/// when `v4`, which needs a v4-mapped `ip`; else AF_INET6, dual-stack only
/// for a v4-mapped `ip`), so no family or type checks are needed, then the
/// connect in `mode` (`buf[0..len]` in the SYN for `syn_data`). On failure
/// `stage` says where, and no fd is left open.
pub fn start(
    ip: *const [16]u8,
    port: u16,
    scope_id: u32,
    v4: bool,
    mode: Mode,
    buf: [*]const u8,
    len: u32,
    stage: *Stage,
) Error!Started {
    assert(len <= std.math.maxInt(i32));
    stage.* = .socket;
    const family = if (v4) platform.AF_INET else platform.AF_INET6;
    const target = try addr.target(family, ip, port, scope_id);
    const dual_stack = !v4 and addr.is_v4_mapped(ip);
    const fd = try socket.open(family, .{ .blocking = false, .dual_stack = dual_stack });
    errdefer _ = sys.close(fd);
    stage.* = .connect;
    const queued: ?u32 = connect_in(mode, fd, &target, buf, len) catch |err|
        if (err == error.INPROGRESS) null else return err;
    return .{ .fd = fd, .queued = queued, .refused = mode != .plain and refused() };
}

/// The connect of `start` in `mode`: the bytes queued (0 without data).
fn connect_in(mode: Mode, fd: i32, target: *const addr.Target, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    switch (mode) {
        .plain => {
            try socket.connect_to(fd, target);
            return 0;
        },
        .syn_data => return with_fallback(SynData{ .fd = fd, .target = target, .buf = buf, .len = len }),
        .lazy => {
            try with_fallback(Lazy{ .fd = fd, .target = target });
            return 0;
        },
    }
}

test "refusal detection: EOPNOTSUPP and ENOPROTOOPT everywhere, EINVAL and EPIPE only off Linux" {
    for ([_]bool{ true, false }) |on_linux| {
        try std.testing.expect(refusal_on(on_linux, error.OPNOTSUPP));
        try std.testing.expect(refusal_on(on_linux, error.NOPROTOOPT));
        try std.testing.expect(!refusal_on(on_linux, error.CONNREFUSED));
        try std.testing.expect(!refusal_on(on_linux, error.INPROGRESS));
        try std.testing.expect(!refusal_on(on_linux, error.AGAIN));
        try std.testing.expectEqual(!on_linux, refusal_on(on_linux, error.INVAL));
        try std.testing.expectEqual(!on_linux, refusal_on(on_linux, error.PIPE));
    }
    try std.testing.expectEqual(refusal_on(linux, error.INVAL), is_refusal(error.INVAL));
}

test "started: success and EINPROGRESS, not other errors" {
    try std.testing.expect(started(@as(Error!u32, 0)));
    try std.testing.expect(started(@as(Error!void, {})));
    try std.testing.expect(started(@as(Error!u32, error.INPROGRESS)));
    try std.testing.expect(!started(@as(Error!u32, error.CONNREFUSED)));
}

/// A scripted attempt for the fallback tests: no sockets involved.
const Fake = struct {
    fastopen_outcome: Error!u32,
    plain_outcome: Error!u32,
    peer: bool = false,
    calls: *Calls,

    const Result = u32;
    const Calls = struct { fastopen: u32 = 0, plain: u32 = 0 };

    fn fastopen(self: Fake) Error!u32 {
        self.calls.fastopen += 1;
        return self.fastopen_outcome;
    }

    fn plain(self: Fake) Error!u32 {
        self.calls.plain += 1;
        return self.plain_outcome;
    }

    fn has_peer(self: Fake) bool {
        return self.peer;
    }
};

test "fallback: TFO result or connection error passes through, nothing remembered" {
    reset();
    defer reset();
    var calls: Fake.Calls = .{};
    try std.testing.expectEqual(@as(u32, 5), try with_fallback(Fake{
        .fastopen_outcome = 5,
        .plain_outcome = 0,
        .calls = &calls,
    }));
    const failed = with_fallback(Fake{ .fastopen_outcome = error.CONNREFUSED, .plain_outcome = 0, .calls = &calls });
    try std.testing.expectError(error.CONNREFUSED, failed);
    try std.testing.expectEqual(Fake.Calls{ .fastopen = 2, .plain = 0 }, calls);
    try std.testing.expect(!refused());
}

test "fallback: a refusal takes the plain path and is remembered once it started" {
    reset();
    defer reset();
    var calls: Fake.Calls = .{};
    const refusal = with_fallback(Fake{
        .fastopen_outcome = error.OPNOTSUPP,
        .plain_outcome = error.INPROGRESS,
        .calls = &calls,
    });
    try std.testing.expectError(error.INPROGRESS, refusal);
    try std.testing.expect(refused());
    // Remembered: TFO is not tried again while the memory holds.
    try std.testing.expectEqual(@as(u32, 3), try with_fallback(Fake{
        .fastopen_outcome = 9,
        .plain_outcome = 3,
        .calls = &calls,
    }));
    try std.testing.expectEqual(Fake.Calls{ .fastopen = 1, .plain = 2 }, calls);
}

test "remaining_ms: what is left of the memory, 0 once it has passed" {
    try std.testing.expectEqual(@as(u32, refusal_memory_ms), remaining_ms(5000 + refusal_memory_ms, 5000));
    try std.testing.expectEqual(@as(u32, 1), remaining_ms(5001, 5000));
    try std.testing.expectEqual(@as(u32, 0), remaining_ms(5000, 5000));
    try std.testing.expectEqual(@as(u32, 0), remaining_ms(5000, 9000));
}

test "fallback: a remembered refusal expires, and TFO is tried again" {
    reset();
    defer reset();
    var calls: Fake.Calls = .{};
    const refusal = with_fallback(Fake{ .fastopen_outcome = error.OPNOTSUPP, .plain_outcome = 0, .calls = &calls });
    try std.testing.expectEqual(@as(u32, 0), try refusal);
    const held = refused_for_ms();
    try std.testing.expect(held > 0 and held <= refusal_memory_ms);
    // The memory runs out (as if refusal_memory_ms had passed): the next call tries TFO.
    refusal_until.store(sys.monotonic_ms(), .release);
    try std.testing.expect(!refused());
    try std.testing.expectEqual(@as(u32, 0), refused_for_ms());
    try std.testing.expectEqual(@as(u32, 7), try with_fallback(Fake{
        .fastopen_outcome = 7,
        .plain_outcome = 0,
        .calls = &calls,
    }));
    try std.testing.expectEqual(Fake.Calls{ .fastopen = 2, .plain = 1 }, calls);
}

test "fallback: not remembered when the plain path failed too or the socket had a peer" {
    reset();
    defer reset();
    var calls: Fake.Calls = .{};
    const both = with_fallback(Fake{
        .fastopen_outcome = error.OPNOTSUPP,
        .plain_outcome = error.CONNREFUSED,
        .calls = &calls,
    });
    try std.testing.expectError(error.CONNREFUSED, both);
    try std.testing.expect(!refused());
    const connected = with_fallback(Fake{
        .fastopen_outcome = error.NOPROTOOPT,
        .plain_outcome = 0,
        .peer = true,
        .calls = &calls,
    });
    try std.testing.expectEqual(@as(u32, 0), try connected);
    try std.testing.expect(!refused());
    try std.testing.expectEqual(Fake.Calls{ .fastopen = 2, .plain = 2 }, calls);
}
