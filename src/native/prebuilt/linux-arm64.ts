/** The shipped linux-arm64 library, as a file import: `bun build` copies it, `--compile` embeds it. */
import path from "../../../prebuilt/linux-arm64/libfastopen.so" with { type: "file" };

export default path;
