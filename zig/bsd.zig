//! What macOS and FreeBSD share from their common BSD heritage: the
//! sockaddr length byte, socket-level option numbers, errno numbers and
//! the errno accessor. Each value is the same in both systems' headers
//! (<sys/socket.h>, <netinet6/in6.h>, <sys/fcntl.h>, <netinet/tcp_fsm.h>,
//! <sys/errno.h>); where they differ, the platform file says so.

pub const has_sa_len = true;

pub const AF_INET: c_int = 2;
pub const SOL_SOCKET: c_int = 0xffff;
pub const SO_ERROR: c_int = 0x1007;
pub const SO_TYPE: c_int = 0x1008;
pub const IPV6_V6ONLY: c_int = 27;
pub const O_NONBLOCK: c_int = 0x4;
pub const TCPS_ESTABLISHED: u8 = 4;

/// The errno values the library acts on; errno.zig checks them against its
/// table. EOPNOTSUPP differs: 102 on Darwin (which also has ENOTSUP 45), 45
/// on FreeBSD (ENOTSUP its alias).
pub fn Errno(comptime opnotsupp: i32) type {
    return struct {
        pub const INTR: i32 = 4;
        pub const IO: i32 = 5;
        pub const BADF: i32 = 9;
        pub const INVAL: i32 = 22;
        pub const PIPE: i32 = 32;
        pub const AGAIN: i32 = 35;
        pub const INPROGRESS: i32 = 36;
        pub const ALREADY: i32 = 37;
        pub const NOTSOCK: i32 = 38;
        pub const PROTOTYPE: i32 = 41;
        pub const NOPROTOOPT: i32 = 42;
        pub const AFNOSUPPORT: i32 = 47;
        pub const ISCONN: i32 = 56;
        pub const NOTCONN: i32 = 57;
        pub const CONNREFUSED: i32 = 61;
        pub const OPNOTSUPP: i32 = opnotsupp;
    };
}

extern "c" fn __error() *c_int;

/// The calling thread's errno (`__error()` on both systems).
pub fn errno_location() *c_int {
    return __error();
}
