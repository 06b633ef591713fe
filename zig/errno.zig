//! errno as Zig errors. Inside the library a failed call is an `Error`
//! (named as the errno without its E: error.CONNREFUSED), made from the
//! thread's errno once at the libc edge (sys.zig) and turned back into
//! `-errno` once at the C ABI edge (root.zig). The mapping is lossless: every
//! errno number a supported platform defines has a name here.
const std = @import("std");
const assert = std.debug.assert;
const platform = @import("sys.zig").platform;

/// Every errno name of Linux, macOS and FreeBSD: the names of `std.c.E` for
/// each supported target, plus NOTSUP (Darwin's ENOTSUP, see darwin.zig).
pub const Error = error{
    @"2BIG",
    ACCES,
    ADDRINUSE,
    ADDRNOTAVAIL,
    ADV,
    AFNOSUPPORT,
    AGAIN,
    ALREADY,
    AUTH,
    BADARCH,
    BADE,
    BADEXEC,
    BADF,
    BADFD,
    BADMACHO,
    BADMSG,
    BADR,
    BADRPC,
    BADRQC,
    BADSLT,
    BFONT,
    BUSY,
    CANCELED,
    CAPMODE,
    CHILD,
    CHRNG,
    COMM,
    CONNABORTED,
    CONNREFUSED,
    CONNRESET,
    DEADLK,
    DESTADDRREQ,
    DEVERR,
    DOM,
    DOOFUS,
    DOTDOT,
    DQUOT,
    EXIST,
    FAULT,
    FBIG,
    FTYPE,
    HOSTDOWN,
    HOSTUNREACH,
    HWPOISON,
    IDRM,
    ILSEQ,
    INPROGRESS,
    INTEGRITY,
    INTR,
    INVAL,
    IO,
    ISCONN,
    ISDIR,
    ISNAM,
    KEYEXPIRED,
    KEYREJECTED,
    KEYREVOKED,
    L2HLT,
    L2NSYNC,
    L3HLT,
    L3RST,
    LIBACC,
    LIBBAD,
    LIBEXEC,
    LIBMAX,
    LIBSCN,
    LNRNG,
    LOOP,
    MEDIUMTYPE,
    MFILE,
    MLINK,
    MSGSIZE,
    MULTIHOP,
    NAMETOOLONG,
    NAVAIL,
    NEEDAUTH,
    NETDOWN,
    NETRESET,
    NETUNREACH,
    NFILE,
    NOANO,
    NOATTR,
    NOBUFS,
    NOCSI,
    NODATA,
    NODEV,
    NOENT,
    NOEXEC,
    NOKEY,
    NOLCK,
    NOLINK,
    NOMEDIUM,
    NOMEM,
    NOMSG,
    NONET,
    NOPKG,
    NOPOLICY,
    NOPROTOOPT,
    NOSPC,
    NOSR,
    NOSTR,
    NOSYS,
    NOTBLK,
    NOTCAPABLE,
    NOTCONN,
    NOTDIR,
    NOTEMPTY,
    NOTNAM,
    NOTRECOVERABLE,
    NOTSOCK,
    NOTSUP,
    NOTTY,
    NOTUNIQ,
    NSRBADFAMILY,
    NSRBADNAME,
    NSRBADQUERY,
    NSRBADRESP,
    NSRCNAMELOOP,
    NSRCONNREFUSED,
    NSRDESTRUCTION,
    NSRFILE,
    NSRFORMERR,
    NSRNODATA,
    NSRNOMEM,
    NSRNOTFOUND,
    NSRNOTIMP,
    NSROF,
    NSRQUERYDOMAINTOOLONG,
    NSRREFUSED,
    NSRSERVFAIL,
    NSRTIMEOUT,
    NXIO,
    OPNOTSUPP,
    OVERFLOW,
    OWNERDEAD,
    PERM,
    PFNOSUPPORT,
    PIPE,
    PROCLIM,
    PROCUNAVAIL,
    PROGMISMATCH,
    PROGUNAVAIL,
    PROTO,
    PROTONOSUPPORT,
    PROTOTYPE,
    PWROFF,
    QFULL,
    RANGE,
    REMCHG,
    REMOTE,
    REMOTEIO,
    RESTART,
    RFKILL,
    ROFS,
    RPCMISMATCH,
    SHLIBVERS,
    SHUTDOWN,
    SOCKTNOSUPPORT,
    SPIPE,
    SRCH,
    SRMNT,
    STALE,
    STRPIPE,
    TIME,
    TIMEDOUT,
    TOOMANYREFS,
    TXTBSY,
    UCLEAN,
    UNATCH,
    USERS,
    XDEV,
    XFULL,
};

/// An errno number `std.c.E` gets wrong for a platform, with the number
/// from the platform's own <sys/errno.h>.
pub const Fix = struct {
    name: []const u8,
    number: u16,
};

/// Largest errno number any supported platform defines, with room to spare.
const number_limit = 256;

/// This platform's number for errno `name`: the platform's fix, else
/// `std.c.E`'s value; null when the platform has no such errno.
fn number_of(comptime name: []const u8) ?u16 {
    @setEvalBranchQuota(10_000);
    for (platform.errno_fixes) |fix| {
        if (std.mem.eql(u8, fix.name, name)) return fix.number;
    }
    if (!@hasField(std.c.E, name)) return null;
    return @backingInt(@field(std.c.E, name));
}

/// The `Error` of each errno number of this platform (null: none).
const by_number: [number_limit]?Error = table: {
    @setEvalBranchQuota(100_000);
    var table: [number_limit]?Error = @splat(null);
    for (@typeInfo(Error).error_set.error_names.?) |name| {
        const value = number_of(name) orelse continue;
        assert(value > 0 and value < number_limit);
        assert(table[value] == null); // no two names for one number
        table[value] = @field(Error, name);
    }
    break :table table;
};

comptime {
    @setEvalBranchQuota(100_000);
    // Every errno of std.c.E has a name in `Error` (a missing one fails here).
    for (@typeInfo(std.c.E).@"enum".field_names) |name| {
        if (!std.mem.eql(u8, name, "SUCCESS")) assert(std.mem.eql(u8, @errorName(@field(Error, name)), name));
    }
    // The values the platform file took from the system headers agree.
    for (@typeInfo(platform.E).@"struct".decl_names) |name| {
        assert(number_of(name).? == @field(platform.E, name));
    }
}

/// The error for errno `value`. 0 (a failed call that left errno unset) and a
/// number this platform does not define read as EIO, never as success.
pub fn from_number(value: i32) Error {
    assert(value >= 0);
    if (value >= number_limit) return error.IO;
    return by_number[@intCast(value)] orelse error.IO;
}

/// The errno number of `err` on this platform (> 0). A name this platform
/// lacks cannot come from `from_number`; should one be raised, it reads as EIO.
pub fn number(err: Error) u16 {
    const value: u16 = switch (err) {
        inline else => |e| comptime number_of(@errorName(e)) orelse number_of("IO").?,
    };
    assert(value > 0);
    return value;
}

test "every errno number of this platform round-trips" {
    var count: u32 = 0;
    for (by_number, 0..) |entry, value| {
        const err = entry orelse continue;
        try std.testing.expectEqual(err, from_number(@intCast(value)));
        try std.testing.expectEqual(@as(u16, @intCast(value)), number(err));
        count += 1;
    }
    try std.testing.expect(count >= 90);
}

test "errno 0 and unknown numbers read as EIO" {
    try std.testing.expectEqual(error.IO, from_number(0));
    try std.testing.expectEqual(error.IO, from_number(number_limit));
    try std.testing.expectEqual(error.IO, from_number(std.math.maxInt(i32)));
}

test "the errnos the library acts on have the platform's numbers" {
    try std.testing.expectEqual(@as(u16, platform.E.BADF), number(error.BADF));
    try std.testing.expectEqual(@as(u16, platform.E.INPROGRESS), number(error.INPROGRESS));
    try std.testing.expectEqual(@as(u16, platform.E.OPNOTSUPP), number(error.OPNOTSUPP));
    try std.testing.expectEqual(error.CONNREFUSED, from_number(platform.E.CONNREFUSED));
}
