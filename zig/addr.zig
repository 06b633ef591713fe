//! Socket addresses: built from and read back into the C ABI's plain
//! `[16]u8` / `[4]u8` addresses, ports in host order and scope ids.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const platform = sys.platform;
const Error = @import("errno.zig").Error;

/// `struct sockaddr_in6`: 28 bytes on every supported platform. BSDs start it
/// with a length byte and a one-byte family; Linux with a two-byte family.
pub const SockAddr6 = extern struct {
    head: [2]u8,
    port_be: u16,
    flowinfo: u32,
    ip: [16]u8,
    scope_id: u32,
};

/// `struct sockaddr_in`: 16 bytes on every supported platform.
pub const SockAddr4 = extern struct {
    head: [2]u8,
    port_be: u16,
    ip: [4]u8,
    zero: [8]u8,
};

/// Room for any address the kernel returns (`struct sockaddr_storage`).
pub const Storage = extern struct {
    bytes: [128]u8 align(8),
};

comptime {
    assert(@sizeOf(SockAddr6) == 28);
    assert(@sizeOf(SockAddr4) == 16);
}

/// An endpoint read back from the kernel, IPv4 given as v4-mapped IPv6.
pub const Endpoint = struct {
    ip: [16]u8,
    port: u16,
    scope_id: u32,
};

fn head(family: c_int, len: usize) [2]u8 {
    assert(len <= 255);
    assert(family > 0 and family < 256);
    if (platform.has_sa_len) return .{ @intCast(len), @intCast(family) };
    return @bitCast(@as(u16, @intCast(family)));
}

fn family_of(storage: *const Storage) c_int {
    if (platform.has_sa_len) return storage.bytes[1];
    return std.mem.readInt(u16, storage.bytes[0..2], builtin_endian);
}

const builtin_endian = @import("builtin").cpu.arch.endian();

/// Builds a `sockaddr_in6`.
pub fn ip6(ip: *const [16]u8, port: u16, scope_id: u32) SockAddr6 {
    return .{
        .head = head(platform.AF_INET6, @sizeOf(SockAddr6)),
        .port_be = std.mem.nativeToBig(u16, port),
        .flowinfo = 0,
        .ip = ip.*,
        .scope_id = scope_id,
    };
}

/// Builds a `sockaddr_in`.
pub fn ip4(ip: *const [4]u8, port: u16) SockAddr4 {
    return .{
        .head = head(platform.AF_INET, @sizeOf(SockAddr4)),
        .port_be = std.mem.nativeToBig(u16, port),
        .ip = ip.*,
        .zero = @splat(0),
    };
}

/// The v4-mapped IPv6 form `::ffff:a.b.c.d` of an IPv4 address.
pub fn v4_mapped(ip: [4]u8) [16]u8 {
    var out: [16]u8 = @splat(0);
    out[10] = 0xff;
    out[11] = 0xff;
    @memcpy(out[12..16], &ip);
    return out;
}

/// True for `::ffff:a.b.c.d`.
pub fn is_v4_mapped(ip: *const [16]u8) bool {
    const prefix = [_]u8{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return std.mem.eql(u8, ip[0..12], &prefix);
}

/// Reads an IPv4 or IPv6 address the kernel wrote into `storage`; null for
/// another family.
pub fn decode(storage: *const Storage) ?Endpoint {
    const family = family_of(storage);
    if (family == platform.AF_INET6) {
        const sa: *const SockAddr6 = @ptrCast(storage);
        return .{ .ip = sa.ip, .port = std.mem.bigToNative(u16, sa.port_be), .scope_id = sa.scope_id };
    }
    if (family == platform.AF_INET) {
        const sa: *const SockAddr4 = @ptrCast(storage);
        return .{ .ip = v4_mapped(sa.ip), .port = std.mem.bigToNative(u16, sa.port_be), .scope_id = 0 };
    }
    return null;
}

/// A destination or local address in the form a socket needs: an IPv4
/// address on an IPv4 socket takes a `sockaddr_in`, anything on an IPv6
/// socket a `sockaddr_in6` (IPv4 as v4-mapped).
pub const Target = union(enum) {
    v6: SockAddr6,
    v4: SockAddr4,

    /// The sockaddr, for bind/connect/sendto.
    pub fn ptr(self: *const Target) *const anyopaque {
        return switch (self.*) {
            .v6 => |*sa| sa,
            .v4 => |*sa| sa,
        };
    }

    /// The sockaddr's length in bytes.
    pub fn len(self: *const Target) u32 {
        return switch (self.*) {
            .v6 => @sizeOf(SockAddr6),
            .v4 => @sizeOf(SockAddr4),
        };
    }
};

/// `[ip]:port` in the form a socket of `family` needs. error.AFNOSUPPORT for
/// a family other than AF_INET6 / AF_INET, or an IPv4 socket and an `ip` that
/// is not v4-mapped.
pub fn target(family: c_int, ip: *const [16]u8, port: u16, scope_id: u32) Error!Target {
    if (family == platform.AF_INET6) return .{ .v6 = ip6(ip, port, scope_id) };
    if (family != platform.AF_INET) return error.AFNOSUPPORT;
    if (!is_v4_mapped(ip)) return error.AFNOSUPPORT;
    return .{ .v4 = ip4(ip[12..16], port) };
}

test "ip6 round-trips through decode" {
    const ip = [_]u8{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    const sa = ip6(&ip, 8080, 7);
    var storage = Storage{ .bytes = @splat(0) };
    @memcpy(storage.bytes[0..@sizeOf(SockAddr6)], std.mem.asBytes(&sa));
    const ep = decode(&storage).?;
    try std.testing.expectEqualSlices(u8, &ip, &ep.ip);
    try std.testing.expectEqual(@as(u16, 8080), ep.port);
    try std.testing.expectEqual(@as(u32, 7), ep.scope_id);
    try std.testing.expectEqual(@as(u8, 0x1f), std.mem.asBytes(&sa)[2]);
    try std.testing.expectEqual(@as(u8, 0x90), std.mem.asBytes(&sa)[3]);
}

test "ip4 decodes as v4-mapped" {
    const sa = ip4(&.{ 127, 0, 0, 1 }, 443);
    var storage = Storage{ .bytes = @splat(0) };
    @memcpy(storage.bytes[0..@sizeOf(SockAddr4)], std.mem.asBytes(&sa));
    const ep = decode(&storage).?;
    try std.testing.expect(is_v4_mapped(&ep.ip));
    try std.testing.expectEqualSlices(u8, &.{ 127, 0, 0, 1 }, ep.ip[12..16]);
    try std.testing.expectEqual(@as(u16, 443), ep.port);
}

test "unknown family decodes as null" {
    var storage = Storage{ .bytes = @splat(0) };
    storage.bytes[0] = 1;
    storage.bytes[1] = 1;
    try std.testing.expect(decode(&storage) == null);
}

test "v4_mapped and is_v4_mapped" {
    const mapped = v4_mapped(.{ 192, 0, 2, 1 });
    try std.testing.expectEqualSlices(u8, &.{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 }, &mapped);
    try std.testing.expect(is_v4_mapped(&mapped));
    var loopback6: [16]u8 = @splat(0);
    loopback6[15] = 1;
    try std.testing.expect(!is_v4_mapped(&loopback6));
    var compat = mapped; // ::a.b.c.d (deprecated IPv4-compatible) is not mapped
    compat[10] = 0;
    compat[11] = 0;
    try std.testing.expect(!is_v4_mapped(&compat));
}

test "sockaddr heads: length byte on BSDs, two-byte family on Linux" {
    const sa6 = ip6(&@as([16]u8, @splat(0)), 0, 0);
    const sa4 = ip4(&.{ 0, 0, 0, 0 }, 0);
    if (platform.has_sa_len) {
        try std.testing.expectEqual([2]u8{ 28, @intCast(platform.AF_INET6) }, sa6.head);
        try std.testing.expectEqual([2]u8{ 16, @intCast(platform.AF_INET) }, sa4.head);
    } else {
        try std.testing.expectEqual(@as(u16, @intCast(platform.AF_INET6)), @as(u16, @bitCast(sa6.head)));
        try std.testing.expectEqual(@as(u16, @intCast(platform.AF_INET)), @as(u16, @bitCast(sa4.head)));
    }
}

test "ip4 lays out port and address in network order" {
    const sa = ip4(&.{ 10, 1, 2, 3 }, 0x1234);
    const bytes = std.mem.asBytes(&sa);
    try std.testing.expectEqualSlices(u8, &.{ 0x12, 0x34, 10, 1, 2, 3 }, bytes[2..8]);
    try std.testing.expectEqualSlices(u8, &@as([8]u8, @splat(0)), bytes[8..16]);
}

test "target: IPv6 socket takes any address, IPv4 socket only v4-mapped" {
    const mapped = v4_mapped(.{ 127, 0, 0, 1 });
    var loopback6: [16]u8 = @splat(0);
    loopback6[15] = 1;
    const v6 = try target(platform.AF_INET6, &mapped, 80, 3);
    try std.testing.expectEqual(@as(u32, @sizeOf(SockAddr6)), v6.len());
    try std.testing.expectEqual(@as(u32, 3), v6.v6.scope_id);
    const v4 = try target(platform.AF_INET, &mapped, 80, 3);
    try std.testing.expectEqual(@as(u32, @sizeOf(SockAddr4)), v4.len());
    try std.testing.expectEqualSlices(u8, &.{ 127, 0, 0, 1 }, &v4.v4.ip);
    try std.testing.expectEqual(@intFromPtr(&v4.v4), @intFromPtr(v4.ptr()));
    try std.testing.expectError(error.AFNOSUPPORT, target(platform.AF_INET, &loopback6, 80, 0));
    try std.testing.expectError(error.AFNOSUPPORT, target(1, &mapped, 80, 0)); // AF_UNIX
}
