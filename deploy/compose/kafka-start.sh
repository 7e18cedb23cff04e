#!/bin/bash
# The secure broker of docker-compose.yml (apache/kafka image): format the data volume once with
# the cluster id and the super user's SCRAM credential (KRaft keeps SCRAM users in its metadata
# log, so renkei-admin exists before the first client connects), then start Kafka with the
# configuration made by `python -m renkei.deploy.compose_secrets` (listeners, TLS, authorizer).
set -euo pipefail
config=/run/secrets/kafka-server.properties
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  admin=$(cat /run/secrets/renkei-admin.password)
  /opt/kafka/bin/kafka-storage.sh format --ignore-formatted \
    --cluster-id "$(cat /run/secrets/kafka-cluster-id)" --config "$config" \
    --add-scram "SCRAM-SHA-512=[name=renkei-admin,password=${admin}]" >/dev/null
  unset admin
fi
# The healthcheck's client settings (inside the container only, 0600): it logs in as the admin.
umask 077
{
  echo "security.protocol=SASL_SSL"
  echo "sasl.mechanism=SCRAM-SHA-512"
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"renkei-admin\" password=\"$(cat /run/secrets/renkei-admin.password)\";"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.location=/run/secrets/ca.pem"
} > /tmp/healthcheck.properties
exec /opt/kafka/bin/kafka-server-start.sh "$config"
