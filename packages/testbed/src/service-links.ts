/**
 * The Kubernetes service-link variables the kubelet injects into every pod started after a
 * Service named `opendepot-server` (ClusterIP 10.0.0.107, port 443 named `http`) exists: they
 * share the `OPENDEPOT_` prefix with the configuration's variables and must not be read as it.
 */
export const SERVICE_LINK_ENV: Readonly<Record<string, string>> = Object.freeze({
  OPENDEPOT_SERVER_PORT: 'tcp://10.0.0.107:443',
  OPENDEPOT_SERVER_SERVICE_HOST: '10.0.0.107',
  OPENDEPOT_SERVER_SERVICE_PORT: '443',
  OPENDEPOT_SERVER_SERVICE_PORT_HTTP: '443',
  OPENDEPOT_SERVER_PORT_443_TCP: 'tcp://10.0.0.107:443',
  OPENDEPOT_SERVER_PORT_443_TCP_PROTO: 'tcp',
  OPENDEPOT_SERVER_PORT_443_TCP_PORT: '443',
  OPENDEPOT_SERVER_PORT_443_TCP_ADDR: '10.0.0.107',
});
