/**
 * The program: run the CLI with this process's arguments and exit with its code. The build's code-cache step loads
 * the bundle with KUBE_CERT_RENEWER_NO_AUTORUN set and drives `main` itself.
 */
import { main } from './main.js';

export { main };

if (!process.env.KUBE_CERT_RENEWER_NO_AUTORUN) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`kube-cert-renewer: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
