/** The program: run the CLI with this process's arguments and exit with its code. */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kube-cert-renewer: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
