// What plays the kubelet and the control plane inside the test container, as systemd units:
//
// - static-pod@NAME.service runs the "pod" of /etc/kubernetes/manifests/NAME.yaml: etcd is the real etcd with the
//   manifest's own flags; kube-apiserver, kube-controller-manager and kube-scheduler are `openssl s_server -WWW`
//   serving the manifest's certificate (or, without one, a fresh self-signed one as those components make) on the
//   manifest's address and port, with the health page (livez, healthz) answering "ok". Like the real components
//   they take a moment to start, so a restart shows as the port going away and coming back.
// - static-pod-watch@NAME.path restarts that unit when its manifest changes: the kubelet's job for static pods.
// - kubelet.service is a process that does nothing, so a restart over D-Bus shows as a new MainPID.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

const STATIC_POD_SCRIPT = `#!/bin/sh
# static-pod NAME: run what /etc/kubernetes/manifests/NAME.yaml describes, in the foreground.
set -eu
name=$1
manifest=/etc/kubernetes/manifests/$name.yaml
flag() { sed -n "s/^ *- \\"*--$1=\\([^\\"]*\\)\\"*$/\\1/p" "$manifest" | head -n 1; }

if [ "$name" = etcd ]; then
    set -f
    # The manifest's flags, one argument each, then our own data directory (the last --data-dir wins).
    # shellcheck disable=SC2046
    set -- $(sed -n 's/^ *- "*\\(--[^"]*\\)"*$/\\1/p' "$manifest")
    exec etcd "$@" --data-dir=/var/lib/etcd-standin
fi

case $name in
    kube-apiserver) address=$(flag advertise-address); port=$(flag secure-port); page=livez ;;
    kube-controller-manager) address=$(flag bind-address); port=$(flag secure-port); page=healthz; : "\${port:=10257}" ;;
    kube-scheduler) address=$(flag bind-address); port=$(flag secure-port); page=healthz; : "\${port:=10259}" ;;
    *) echo "static-pod: no stand-in for $name" >&2; exit 2 ;;
esac
cert=$(flag tls-cert-file)
key=$(flag tls-private-key-file)
work=/run/static-pod/$name
rm -rf "$work"
mkdir -p "$work"
cd "$work"
echo ok > "$page"
# A real component takes a while to start serving: its port is closed meanwhile, as after a real pod restart.
sleep 2
if [ -z "$cert" ]; then
    # Like the real component: a new self-signed serving certificate on every start.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" -days 1 \\
        -keyout self.key -out self.crt 2>/dev/null
    cert=$work/self.crt
    key=$work/self.key
fi
exec openssl s_server -quiet -WWW -accept "\${address:-127.0.0.1}:$port" -cert "$cert" -key "$key"
`;

const UNITS: Record<string, string> = {
  'static-pod@.service': `[Unit]
Description=Static pod %i (test stand-in)

[Service]
ExecStart=/usr/local/sbin/static-pod %i
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`,
  'static-pod-watch@.path': `[Unit]
Description=Restart static pod %i when its manifest changes (the kubelet's job)

[Path]
PathChanged=/etc/kubernetes/manifests/%i.yaml
Unit=static-pod-bounce@%i.service

[Install]
WantedBy=multi-user.target
`,
  'static-pod-bounce@.service': `[Unit]
Description=Restart static pod %i

[Service]
Type=oneshot
ExecStart=/bin/systemctl restart static-pod@%i.service
`,
  'kubelet.service': `[Unit]
Description=kubelet (test stand-in)

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
`,
};

/** Writes the stand-ins into a root filesystem and enables them, as `systemctl enable` would. */
export function installStandIns(root: string): void {
  const script = join(root, 'usr/local/sbin/static-pod');
  mkdirSync(dirname(script), { recursive: true });
  writeFileSync(script, STATIC_POD_SCRIPT);
  chmodSync(script, 0o755);
  const units = join(root, 'etc/systemd/system');
  for (const [name, text] of Object.entries(UNITS)) writeFileSync(join(units, name), text);
  const wants = join(units, 'multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  symlinkSync('/etc/systemd/system/kubelet.service', join(wants, 'kubelet.service'));
  for (const pod of STATIC_PODS) {
    symlinkSync('/etc/systemd/system/static-pod@.service', join(wants, `static-pod@${pod}.service`));
    symlinkSync('/etc/systemd/system/static-pod-watch@.path', join(wants, `static-pod-watch@${pod}.path`));
  }
}

/** Units that must be active once the container has booted. */
export const STAND_IN_UNITS = ['kubelet.service', ...STATIC_PODS.flatMap((p) => [`static-pod@${p}.service`, `static-pod-watch@${p}.path`])];
