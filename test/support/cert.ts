/** A throw-away self-signed certificate for the TLS tests, made with openssl. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Writes cert.pem and key.pem (EC P-256, CN localhost, SANs localhost, 127.0.0.1, ::1) into `dir`. */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  args.push("-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost");
  args.push("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1");
  const run = spawnSync("openssl", args, { encoding: "utf8" });
  if (run.status !== 0)
    throw new Error(`openssl could not make a test certificate (is openssl installed?): ${run.error ?? run.stderr}`);
  return { cert, key };
}
