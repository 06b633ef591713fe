/** The shipped freebsd-x64 library, as a file import: `bun build` copies it, `--compile` embeds it. */
import path from "../../../prebuilt/freebsd-x64/libfastopen.so" with { type: "file" };

export default path;
