//! FreeBSD branch: `TCP_FASTOPEN` set on the client socket, then `sendto()`
//! with the address puts the data in the SYN. No lazy mode: `fastopen_lazy`
//! is a plain connect. `TCP_INFO` reports whether TFO was used.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const status = @import("status.zig");

pub const name = "freebsd";
pub const has_sa_len = true;

pub const AF_INET: c_int = 2;
pub const AF_INET6: c_int = 28;
pub const SOL_SOCKET: c_int = 0xffff;
pub const SO_ERROR: c_int = 0x1007;
const SO_NOSIGPIPE: c_int = 0x0800;
pub const IPV6_V6ONLY: c_int = 27;
pub const O_NONBLOCK: c_int = 0x4;
pub const MSG_NOSIGNAL: c_int = 0x20000;
const TCP_INFO: c_int = 32;
const TCP_FASTOPEN: c_int = 1025;
const TCPI_OPT_TFO: u8 = 0x20;
const TCPS_ESTABLISHED: u8 = 4;

/// The errno values the library acts on.
pub const E = struct {
    pub const IO: i32 = 5;
    pub const INTR: i32 = 4;
    pub const BADF: i32 = 9;
    pub const AGAIN: i32 = 35;
    pub const INVAL: i32 = 22;
    pub const PIPE: i32 = 32;
    pub const INPROGRESS: i32 = 36;
    pub const ALREADY: i32 = 37;
    pub const NOTSOCK: i32 = 38;
    pub const NOPROTOOPT: i32 = 42;
    pub const OPNOTSUPP: i32 = 45;
    pub const AFNOSUPPORT: i32 = 47;
    pub const ISCONN: i32 = 56;
    pub const NOTCONN: i32 = 57;
    pub const CONNREFUSED: i32 = 61;
};

extern "c" fn __error() *c_int;

pub fn errno_location() *c_int {
    return __error();
}

/// SO_NOSIGPIPE as a second guard beside MSG_NOSIGNAL.
pub fn prepare_socket(fd: i32) i32 {
    assert(fd >= 0);
    return sys.set_int_option(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
}

/// TCP_FASTOPEN on the client socket, then sendto with the address.
pub fn fastopen_connect(fd: i32, sa: *const anyopaque, sa_len: u32, buf: [*]const u8, len: u32) i32 {
    assert(fd >= 0);
    const rc = sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, 1);
    if (rc < 0) return rc;
    return sys.byte_count(sys.sendto(fd, buf, len, MSG_NOSIGNAL, sa, sa_len));
}

/// FreeBSD has no lazy TFO: a plain connect (callers learn it from the status).
pub fn fastopen_lazy(fd: i32, sa: *const anyopaque, sa_len: u32) i32 {
    assert(fd >= 0);
    return sys.check(sys.connect(fd, sa, sa_len));
}

/// Server side: TCP_FASTOPEN on (FreeBSD takes on/off; the queue is global).
pub fn fastopen_listen(fd: i32, queue_length: u32) i32 {
    assert(fd >= 0);
    return sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, @intFromBool(queue_length > 0));
}

/// FreeBSD has no per-socket no-cookie mode (it is the PSK sysctl).
pub fn fastopen_no_cookie(fd: i32) i32 {
    assert(fd >= 0);
    return -E.OPNOTSUPP;
}

/// TCP_INFO's tcpi_options has TCPI_OPT_TFO when TFO was used on the connection.
pub fn fastopen_status(fd: i32) i32 {
    assert(fd >= 0);
    var info: [256]u8 = @splat(0);
    var len: sys.socklen_t = info.len;
    if (sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_INFO, &info, &len) == -1) return sys.fail();
    if (len < 8) return -E.IO;
    const used = info[5] & TCPI_OPT_TFO != 0;
    return status.encode(.{
        .known = true,
        .sent = used,
        .acked = used,
        .established = info[0] >= TCPS_ESTABLISHED,
        .reason = if (used) .none else .unknown,
        .state = info[0],
    });
}
