//! Builds libfastopen, the native TCP Fast Open library loaded by the Bun facade.
//!
//!   zig build -Doptimize=ReleaseSafe   shared library for the host, in zig-out/lib
//!   zig build test                unit tests of the native library
//!   zig build cross               the library for every supported platform, in zig-out/cross/<triple>
//!   zig build relay               the benchmark's delay relay (Linux), in zig-out/bench/relay
const std = @import("std");

/// Platforms the library is cross-built for by `zig build cross`.
const cross_targets = [_][]const u8{
    "x86_64-linux-gnu",
    "aarch64-linux-gnu",
    "x86_64-macos",
    "aarch64-macos",
    "x86_64-freebsd",
};

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const lib = add_library(b, target, optimize);
    b.installArtifact(lib);

    const tests = b.addTest(.{ .root_module = root_module(b, target, optimize) });
    const test_step = b.step("test", "Run the native library's unit tests");
    test_step.dependOn(&b.addRunArtifact(tests).step);

    const cross_step = b.step("cross", "Cross-build the library for every supported platform");
    for (cross_targets) |triple| {
        const query = std.Target.Query.parse(.{ .arch_os_abi = triple }) catch
            @panic("bad cross target triple");
        const cross_lib = add_library(b, b.resolveTargetQuery(query), optimize);
        const install = b.addInstallArtifact(cross_lib, .{
            .dest_dir = .{ .override = .{ .custom = b.fmt("cross/{s}", .{triple}) } },
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

fn root_module(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
) *std.Build.Module {
    return b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
    });
}

fn add_library(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
) *std.Build.Step.Compile {
    return b.addLibrary(.{
        .name = "fastopen",
        .linkage = .dynamic,
        .root_module = root_module(b, target, optimize),
    });
}
