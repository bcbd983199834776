# The cluster's certificates and kubeconfigs, made with openssl into $STATE/pki: one CA for
# everything (API server serving, kubelet serving, every client), and the service-account key
# pair the API server signs and verifies tokens with.
# shellcheck shell=bash

# cert <name> <subject> <extensions (a openssl config section body)>
cert() {
  local name=$1 subject=$2 ext=$3 dir=$STATE/pki
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -subj "$subject" -out "$dir/$name.csr" 2>/dev/null
  printf '[ext]\n%s\n' "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 30 -extfile "$dir/$name.ext" -extensions ext -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

client_cert() {
  cert "$1" "$2" $'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
}

serving_cert() {
  cert "$1" "$2" $'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName='"$3"
}

# kubeconfig <file> <client cert name> <server>
kubeconfig() {
  local file=$1 name=$2 server=$3 dir=$STATE/pki
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$dir/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$dir/$name.crt")
    client-key-data: $(base64 -w0 "$dir/$name.key")
contexts:
- name: $CONTEXT
  context: {cluster: $CONTEXT, user: $name}
current-context: $CONTEXT
KUBECONFIG
  chmod 600 "$file"
}

make_pki() {
  local dir=$STATE/pki
  mkdir -p "$dir" && chmod 700 "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=minimesh-kube-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  serving_cert apiserver "/CN=kube-apiserver" \
    "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  serving_cert kubelet-serving "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
  client_cert admin "/O=system:masters/CN=minimesh-kube-admin"
  client_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  client_cert controller-manager "/CN=system:kube-controller-manager"
  client_cert scheduler "/CN=system:kube-scheduler"
  client_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  client_cert kube-proxy "/CN=system:kube-proxy"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  local server=https://$NODE_IP:6443
  kubeconfig "$KUBECONFIG_ADMIN" admin "$server"
  for name in controller-manager scheduler kubelet kube-proxy; do
    kubeconfig "$STATE/$name.kubeconfig" "$name" "$server"
  done
}
