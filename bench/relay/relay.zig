//! A wire with a fixed one-way delay between two network namespaces.
//!
//!   relay <ifname-a> <ifname-b> <delay-us>
//!
//! Creates two TUN devices (IFF_TUN | IFF_NO_PI) in the namespace it runs in,
//! prints "ready" once both are open, and forwards every packet read from one
//! to the other `delay-us` microseconds after it arrived. The caller moves the
//! devices into their namespaces (`ip link set <if> netns <ns>`) after
//! "ready": the open fds stay bound to the devices. Packets keep their order
//! (the delay is the same for all, so each direction is a FIFO). The relay
//! exits when its stdin closes and prints its counters on stderr. With a
//! fourth argument `trace`, it prints one line per IPv6/TCP packet on stderr
//! (time, direction, flags, payload bytes): a poor man's tcpdump.
const std = @import("std");
const assert = std.debug.assert;

const O_RDWR: c_int = 0o2;
const O_NONBLOCK: c_int = 0o4000;
const O_CLOEXEC: c_int = 0o2000000;
const TUNSETIFF: c_ulong = 0x400454ca;
const IFF_TUN: i16 = 0x0001;
const IFF_NO_PI: i16 = 0x1000;
const POLLIN: i16 = 0x1;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;
const EAGAIN: c_int = 11;
const EINTR: c_int = 4;
const CLOCK_MONOTONIC: c_int = 1;
const PR_SET_TIMERSLACK: c_int = 29;
const IFNAMSIZ: usize = 16;

const PollFd = extern struct { fd: c_int, events: i16, revents: i16 };
const Timespec = extern struct { sec: i64, nsec: i64 };
const IfReq = extern struct { name: [IFNAMSIZ]u8, flags: i16, pad: [22]u8 };

extern "c" fn open(path: [*:0]const u8, flags: c_int, ...) c_int;
extern "c" fn ioctl(fd: c_int, request: c_ulong, ...) c_int;
extern "c" fn read(fd: c_int, buf: [*]u8, len: usize) isize;
extern "c" fn write(fd: c_int, buf: [*]const u8, len: usize) isize;
extern "c" fn ppoll(fds: [*]PollFd, nfds: c_ulong, timeout: ?*const Timespec, sigmask: ?*const anyopaque) c_int;
extern "c" fn clock_gettime(clock: c_int, ts: *Timespec) c_int;
extern "c" fn prctl(option: c_int, ...) c_int;
extern "c" fn __errno_location() *c_int;

/// Largest packet a 1500-byte-MTU TUN device hands out (no GSO without IFF_VNET_HDR).
const packet_max: usize = 2048;
/// Packets in flight per direction; more are dropped (and counted).
const slots: u32 = 4096;

const Packet = struct { due_ns: u64, len: u16, bytes: [packet_max]u8 };

/// One direction of the wire: a FIFO of packets waiting for their due time.
const Queue = struct {
    packets: [slots]Packet,
    head: u32 = 0,
    count: u32 = 0,
    forwarded: u64 = 0,
    dropped: u64 = 0,
    late_max_ns: u64 = 0,

    fn full(self: *const Queue) bool {
        return self.count == slots;
    }

    fn tail(self: *Queue) *Packet {
        assert(!self.full());
        return &self.packets[(self.head + self.count) % slots];
    }

    fn front(self: *Queue) ?*Packet {
        if (self.count == 0) return null;
        return &self.packets[self.head];
    }

    fn pop(self: *Queue) void {
        assert(self.count > 0);
        self.head = (self.head + 1) % slots;
        self.count -= 1;
    }
};

var queues: [2]Queue = .{ .{ .packets = undefined }, .{ .packets = undefined } };

fn errno() c_int {
    return __errno_location().*;
}

fn now_ns() u64 {
    var ts: Timespec = undefined;
    const rc = clock_gettime(CLOCK_MONOTONIC, &ts);
    assert(rc == 0);
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

fn print(fd: c_int, comptime format: []const u8, args: anytype) void {
    var buf: [512]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, format, args) catch return;
    _ = write(fd, text.ptr, text.len);
}

/// Opens /dev/net/tun as device `name`: the fd, or null after printing why.
fn open_tun(name: []const u8) ?c_int {
    if (name.len == 0 or name.len >= IFNAMSIZ) {
        print(2, "relay: bad interface name '{s}'\n", .{name});
        return null;
    }
    const fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        print(2, "relay: open /dev/net/tun: errno {d}\n", .{errno()});
        return null;
    }
    var req: IfReq = .{ .name = @splat(0), .flags = IFF_TUN | IFF_NO_PI, .pad = @splat(0) };
    @memcpy(req.name[0..name.len], name);
    if (ioctl(fd, TUNSETIFF, &req) < 0) {
        print(2, "relay: TUNSETIFF {s}: errno {d}\n", .{ name, errno() });
        return null;
    }
    return fd;
}

/// Reads every packet waiting on `fd` into `queue`, due `delay_ns` from now.
fn drain(fd: c_int, queue: *Queue, delay_ns: u64) bool {
    var scratch: [packet_max]u8 = undefined;
    while (true) {
        const into: [*]u8 = if (queue.full()) &scratch else &queue.tail().bytes;
        const n = read(fd, into, packet_max);
        if (n < 0) {
            const e = errno();
            if (e == EAGAIN) return true;
            if (e == EINTR) continue;
            print(2, "relay: read: errno {d}\n", .{e});
            return false;
        }
        if (n == 0) return true;
        if (queue.full()) {
            queue.dropped += 1;
            continue;
        }
        const packet = queue.tail();
        packet.len = @intCast(n);
        packet.due_ns = now_ns() + delay_ns;
        queue.count += 1;
        if (trace) trace_packet(packet, queue == &queues[0]);
    }
}

var trace: bool = false;
var trace_start_ns: u64 = 0;

/// One line per IPv6 TCP packet: microseconds since start, direction, flags, payload length.
fn trace_packet(packet: *const Packet, a_to_b: bool) void {
    const bytes = packet.bytes[0..packet.len];
    if (bytes.len < 60 or bytes[0] >> 4 != 6 or bytes[6] != 6) return;
    const tcp = bytes[40..];
    const header_len = @as(usize, tcp[12] >> 4) * 4;
    const payload = if (bytes.len >= 40 + header_len) bytes.len - 40 - header_len else 0;
    const flags = tcp[13];
    const names = [_]struct { bit: u8, char: u8 }{
        .{ .bit = 0x02, .char = 'S' }, .{ .bit = 0x10, .char = '.' }, .{ .bit = 0x08, .char = 'P' },
        .{ .bit = 0x01, .char = 'F' }, .{ .bit = 0x04, .char = 'R' },
    };
    var text: [5]u8 = @splat(' ');
    for (names, 0..) |name, i| {
        if (flags & name.bit != 0) text[i] = name.char;
    }
    const port_a = std.mem.readInt(u16, tcp[0..2], .big);
    const port_b = std.mem.readInt(u16, tcp[2..4], .big);
    print(2, "{d:>10} {s} {d}>{d} [{s}] {d}\n", .{
        (now_ns() - trace_start_ns) / 1000, if (a_to_b) "a>b" else "b>a", port_a, port_b, text, payload,
    });
}

/// Writes the packets of `queue` that are due to `fd`.
fn deliver(fd: c_int, queue: *Queue, now: u64) void {
    while (queue.front()) |packet| {
        if (packet.due_ns > now) return;
        queue.late_max_ns = @max(queue.late_max_ns, now - packet.due_ns);
        const n = write(fd, &packet.bytes, packet.len);
        if (n == packet.len) queue.forwarded += 1 else queue.dropped += 1;
        queue.pop();
    }
}

/// Time until the earliest due packet, or null when both queues are empty.
fn next_timeout(now: u64) ?Timespec {
    var due: ?u64 = null;
    for (&queues) |*queue| {
        if (queue.front()) |packet| due = if (due) |d| @min(d, packet.due_ns) else packet.due_ns;
    }
    const at = due orelse return null;
    const wait = if (at > now) at - now else 0;
    return .{ .sec = @intCast(wait / std.time.ns_per_s), .nsec = @intCast(wait % std.time.ns_per_s) };
}

fn run(fds: [2]c_int, delay_ns: u64) c_int {
    var polls = [3]PollFd{
        .{ .fd = fds[0], .events = POLLIN, .revents = 0 },
        .{ .fd = fds[1], .events = POLLIN, .revents = 0 },
        .{ .fd = 0, .events = POLLIN, .revents = 0 },
    };
    while (true) {
        const timeout = next_timeout(now_ns());
        const n = ppoll(&polls, polls.len, if (timeout) |*t| t else null, null);
        if (n < 0 and errno() != EINTR) {
            print(2, "relay: ppoll: errno {d}\n", .{errno()});
            return 1;
        }
        if (polls[2].revents & (POLLIN | POLLHUP | POLLERR) != 0) return 0;
        for (0..2) |side| {
            if (polls[side].revents & POLLIN != 0) {
                if (!drain(fds[side], &queues[side], delay_ns)) return 1;
            }
        }
        const now = now_ns();
        deliver(fds[1], &queues[0], now);
        deliver(fds[0], &queues[1], now);
    }
}

pub export fn main(argc: c_int, argv: [*]const [*:0]const u8) c_int {
    if (argc != 4 and argc != 5) {
        print(2, "usage: relay <ifname-a> <ifname-b> <delay-us> [trace]\n", .{});
        return 2;
    }
    const delay_us = std.fmt.parseInt(u32, std.mem.span(argv[3]), 10) catch {
        print(2, "relay: delay-us must be an integer 0..4294967295\n", .{});
        return 2;
    };
    trace = argc == 5 and std.mem.eql(u8, std.mem.span(argv[4]), "trace");
    trace_start_ns = now_ns();
    // Wake-ups exactly at the due time (the default slack is 50 us).
    _ = prctl(PR_SET_TIMERSLACK, @as(c_ulong, 1));
    const a = open_tun(std.mem.span(argv[1])) orelse return 1;
    const b = open_tun(std.mem.span(argv[2])) orelse return 1;
    print(1, "ready\n", .{});
    const rc = run(.{ a, b }, @as(u64, delay_us) * std.time.ns_per_us);
    print(2, "relay: a->b forwarded {d} dropped {d} late-max {d}us; b->a forwarded {d} dropped {d} late-max {d}us\n", .{
        queues[0].forwarded, queues[0].dropped, queues[0].late_max_ns / 1000,
        queues[1].forwarded, queues[1].dropped, queues[1].late_max_ns / 1000,
    });
    return rc;
}
