/** The shipped linux-x64 library, as a file import: `bun build` copies it, `--compile` embeds it. */
import path from "../../../prebuilt/linux-x64/libfastopen.so" with { type: "file" };

export default path;
