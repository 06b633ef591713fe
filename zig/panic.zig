//! The library's panic handler: writes the message to stderr (fd 2), then
//! traps. Zig's default handler prints stack traces, which links fork,
//! execve, pthread, getaddrinfo and glibc-only symbols (GLIBC_2.36
//! `arc4random_buf`) into the shared library; this one needs only `write`,
//! so one Linux build loads on glibc 2.17 and on musl.
const std = @import("std");

extern "c" fn write(fd: c_int, buf: [*]const u8, len: usize) isize;

/// The safety-check panics of `std.debug.FullPanic`, lowered to `call`.
pub const handler = std.debug.FullPanic(call);

/// Writes "libfastopen panic: <msg>\n" to fd 2 (best effort), then traps.
fn call(msg: []const u8, first_trace_addr: ?usize) noreturn {
    @branchHint(.cold);
    _ = first_trace_addr;
    write_all("libfastopen panic: ");
    write_all(msg);
    write_all("\n");
    @trap();
}

/// Writes `text` to fd 2; gives up on the first failed or empty write.
fn write_all(text: []const u8) void {
    var rest = text;
    while (rest.len > 0) {
        const n = write(2, rest.ptr, rest.len);
        if (n <= 0) return;
        rest = rest[@intCast(n)..];
    }
}
