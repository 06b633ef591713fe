//! Socket addresses: built from and read back into the C ABI's plain
//! `[16]u8` / `[4]u8` addresses, ports in host order and scope ids.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const platform = sys.platform;

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
