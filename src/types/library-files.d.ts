/**
 * The shipped libraries are imported `with { type: "file" }` (see
 * src/native/prebuilt/): the import's value is the file's path.
 */
declare module "*.so" {
  /** Where the file is: absolute, `/$bunfs/...` in a compiled executable, or relative to the bundle. */
  const path: string;
  export default path;
}

declare module "*.dylib" {
  /** Where the file is: absolute, `/$bunfs/...` in a compiled executable, or relative to the bundle. */
  const path: string;
  export default path;
}
