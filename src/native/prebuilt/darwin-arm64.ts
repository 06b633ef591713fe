/** The shipped darwin-arm64 library, as a file import: `bun build` copies it, `--compile` embeds it. */
import path from "../../../prebuilt/darwin-arm64/libfastopen.dylib" with { type: "file" };

export default path;
