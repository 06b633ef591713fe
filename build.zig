//! Builds libfastopen, the native TCP Fast Open library loaded by the Bun facade.
//!
//!   zig build -Doptimize=ReleaseSafe   shared library for the host, in zig-out/lib
//!   zig build test                unit tests of the native library
//!   zig build cross               the shipped library for every platform, in zig-out/cross/<platform>-<arch>
//!   zig build relay               the benchmark's delay relay (Linux), in zig-out/bench/relay
const std = @import("std");

/// A platform the library is cross-built (and shipped) for by `zig build cross`.
const CrossTarget = struct {
    /// Zig's target triple, with the oldest OS/libc version the library supports.
    triple: []const u8,
    /// The folder name: Bun's `process.platform`-`process.arch`.
    name: []const u8,
};

/// The shipped platforms. Linux targets glibc 2.17 (Bun's floor; the same file
/// loads on musl, which takes `libc.so.6` as itself), macOS 13.0 (Bun's floor).
const cross_targets = [_]CrossTarget{
    .{ .triple = "x86_64-linux-gnu.2.17", .name = "linux-x64" },
    .{ .triple = "aarch64-linux-gnu.2.17", .name = "linux-arm64" },
    .{ .triple = "x86_64-macos.13.0", .name = "darwin-x64" },
    .{ .triple = "aarch64-macos.13.0", .name = "darwin-arm64" },
    .{ .triple = "x86_64-freebsd", .name = "freebsd-x64" },
};

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const lib = add_library(b, target, optimize, false);
    b.installArtifact(lib);

    const tests = b.addTest(.{ .root_module = root_module(b, target, optimize, false) });
    const test_step = b.step("test", "Run the native library's unit tests");
    test_step.dependOn(&b.addRunArtifact(tests).step);

    const cross_step = b.step("cross", "Cross-build the library for every supported platform");
    for (cross_targets) |cross| {
        const query = std.Target.Query.parse(.{ .arch_os_abi = cross.triple }) catch
            @panic("bad cross target triple");
        const cross_lib = add_library(b, b.resolveTargetQuery(query), optimize, true);
        const install = b.addInstallArtifact(cross_lib, .{
            .dest_dir = .{ .override = .{ .custom = b.fmt("cross/{s}", .{cross.name}) } },
        });
        cross_step.dependOn(&install.step);
    }

    const relay_step = b.step("relay", "Build the benchmark's delay relay into zig-out/bench/relay");
    relay_step.dependOn(&add_relay(b, target, optimize).step);
}

/// The benchmark's delay relay (bench/relay/relay.zig, Linux TUN devices),
/// installed as <prefix>/bench/relay, where bench/lib/build.ts runs it from.
fn add_relay(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
) *std.Build.Step.InstallArtifact {
    const relay = b.addExecutable(.{
        .name = "relay",
        .root_module = b.createModule(.{
            .root_source_file = b.path("bench/relay/relay.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
        }),
    });
    return b.addInstallArtifact(relay, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } });
}

/// The library's module. No stack protector: it adds `__stack_chk_guard` and
/// `__stack_chk_fail` imports (arm64) to a library that should need only the
/// socket calls from libc; `strip` drops debug info and the
/// symbol table from shipped builds.
fn root_module(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: bool,
) *std.Build.Module {
    return b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
        .stack_protector = false,
        .strip = strip,
    });
}

fn add_library(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: bool,
) *std.Build.Step.Compile {
    return b.addLibrary(.{
        .name = "fastopen",
        .linkage = .dynamic,
        .root_module = root_module(b, target, optimize, strip),
    });
}
