/**
 * The self-signed certificate of the TLS tests and benchmarks: P-256, for
 * localhost, 127.0.0.1 and ::1, made with openssl (its own minimal config,
 * so no system openssl.cnf is needed).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Paths of a certificate and its private key (PEM). */
export interface Certificate {
  cert: string;
  key: string;
}

/** Makes `cert.pem` and `key.pem` in `dir` (valid for two days); throws with openssl's output when it fails. */
export function makeCertificate(dir: string): Certificate {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const config = join(dir, "openssl.cnf");
  writeFileSync(config, "[req]\ndistinguished_name=dn\n[dn]\n");
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  args.push("-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-config", config);
  args.push("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1");
  const run = spawnSync("openssl", args, { encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`openssl could not make a test certificate (is openssl installed?): ${run.error ?? run.stderr}`);
  }
  return { cert, key };
}
