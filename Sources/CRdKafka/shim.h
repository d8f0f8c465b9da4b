// The librdkafka client API plus its in-process mock cluster, as Debian's
// librdkafka-dev installs them (pkg-config name: rdkafka).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
