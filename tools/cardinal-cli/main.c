/*
 * main.c: cardinal-cli, the command-line tool (docs/cli.md). Subcommands
 * are grouped by noun; machine output is JSON on stdout, errors go to
 * stderr, exit codes follow docs/design.md section 6.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cli.h"

static const char USAGE[] =
    "usage: cardinal-cli <noun> <verb> [options]\n"
    "\n"
    "       cardinal-cli --version | --help\n"
    "\n"
    "  genesis hash --genesis FILE              canonical-JSON hash of a Byron genesis\n"
    "  genesis utxo --genesis FILE [--list]     the genesis UTxO (entries, lovelace)\n"
    "               [--requires-magic | --no-magic]\n"
    "  genesis create --out-dir DIR --protocol-magic N --k K --genesis-keys N\n"
    "                 [--slot-duration-ms MS] [--start-time T] [--avvm-entries N]\n"
    "                 [--avvm-balance L] [--poor-addresses N] [--poor-balance L]\n"
    "                 [--protocol-params FILE] [--seed S]\n"
    "                                           a Byron genesis and its keys (docs/genesis.md)\n"
    "  genesis print-secrets --dir DIR          its keys, numbered by file (NNN)\n"
    "  block show FILE [--epoch-slots N] [--protocol-magic N]\n"
    "                                           one block (binary or hex, wrapped or bare)\n"
    "  block list FILE [--epoch-slots N]        every block of a chunk file, one per line\n"
    "  block verify FILE [--genesis FILE] [--protocol-magic N] [--epoch-slots N]\n"
    "                                           check links, proofs and signatures of a chunk\n"
    "  chain validate --genesis FILE --chunk FILE... [--threads N] [--no-signatures]\n"
    "                 [--pbft-threshold T]      replay chunks through the Byron ledger\n"
    "  chain validate --db DIR [--threads N]     replay a database's selected chain\n"
    "  chain generate --genesis-dir DIR --out FILE --slots N [--fill F]\n"
    "                 [--txs-per-block N] [--delegation] [--updates] [--seed S]\n"
    "                 [--pbft-threshold T]      a valid chain forged from a genesis directory\n"
    "  chain generate-invalid --from FILE --genesis-dir DIR --case NAME --seed S --out FILE\n"
    "  chain generate-invalid --list            a chain with one known defect; the cases\n"
    "  db import --db DIR --genesis FILE CHUNK...  validate chunk files and store them\n"
    "  db info --db DIR                         tip, block counts, sizes, snapshots\n"
    "  db validate --db DIR [--threads N]       check every block and index entry\n"
    "  db repair --db DIR                       cut back to the last good block, rebuild indexes\n"
    "  db export --db DIR [--from SLOT] [--to SLOT] --out FILE.chunk\n"
    "  db truncate --db DIR --to-slot N         drop every block after slot N\n"
    "  sync --from HOST:PORT --db DIR [--config FILE | --genesis-dir DIR] [--genesis FILE]\n"
    "       [--pbft-threshold T] [--pipeline N] [--batch N] [--follow]\n"
    "                                           fetch, validate and store a peer's chain\n"
    "  key keygen --secret FILE                 a new Byron signing key\n"
    "  key migrate --in FILE --out FILE [--to envelope|legacy|raw]\n"
    "                                           convert a Byron signing key file\n"
    "  key to-verification --secret FILE --to FILE [--text-envelope]\n"
    "                                           its verification key (Base64, as cardano-cli)\n"
    "  key signing-key-public --secret FILE     its key hash and verification key\n"
    "  key signing-key-address (--testnet-magic N | --mainnet) --secret FILE\n"
    "                                           its Byron address (Base58)\n"
    "  delegation issue-certificate (--testnet-magic N | --mainnet) --epoch E\n"
    "             --secret GENESIS_KEY --delegate-key KEY --certificate FILE\n"
    "                                           a heavyweight delegation certificate\n"
    "  delegation submit --socket-path S --certificate FILE\n"
    "                                           submit it to a node (a re-delegation)\n"
    "  delegation check-certificate (--testnet-magic N | --mainnet) --certificate FILE\n"
    "             [--issuer-key KEY] [--delegate-key KEY] [--genesis FILE]\n"
    "                                           its signature, issuer and delegate\n"
    "  governance create-update-proposal (--testnet-magic N | --mainnet) --signing-key K\n"
    "             --protocol-version-major N --protocol-version-minor N\n"
    "             --protocol-version-alt N --application-name S --software-version-num N\n"
    "             --system-tag S --installer-hash H [parameters] --filepath OUT\n"
    "                                           a signed update proposal (docs/cli.md)\n"
    "  governance create-proposal-vote (--testnet-magic N | --mainnet) --signing-key K\n"
    "             --proposal-filepath P (--vote-yes | --vote-no) --output-filepath OUT\n"
    "  governance submit-update-proposal | submit-proposal-vote --socket-path S\n"
    "             [--testnet-magic N | --mainnet] --filepath F\n"
    "                                           submit one to a node\n"
    "  governance show-proposal | show-vote FILE [--testnet-magic N | --mainnet]\n"
    "  tx show FILE                             a transaction (tx or tx-aux, binary or hex)\n"
    "  tx build --tx-in TXID#IX... --tx-out ADDR+LOVELACE... [--change-address A]\n"
    "           [--fee L] [--allow-high-fee] --out-file F\n"
    "                                           an unsigned transaction, fee and change from\n"
    "                                           the node's UTxO and fee policy\n"
    "  tx sign --tx-file F --signing-key K... --testnet-magic N --out-file F\n"
    "                                           witness it, one key per input\n"
    "  tx id --tx-file F                        the id of a tx or signed tx\n"
    "  tx submit --socket-path S FILE           submit a signed tx to a node (also: submit tx)\n"
    "  query tip [--genesis FILE]               the node's tip, epoch, sync progress\n"
    "  query utxo (--address A)... (--tx-in TXID#IX)...  outputs and balances\n"
    "  query protocol-parameters                the adopted protocol version and parameters\n"
    "  query update-state                       proposals, votes, endorsements, next adoption\n"
    "    (commands to a node: --socket-path S or CARDANO_NODE_SOCKET_PATH,\n"
    "     [--testnet-magic N | --mainnet])\n"
    "  devnet create --dir DIR [--core-nodes N] [--relays N] [--slot-ms MS] [--k K]\n"
    "                [--base-port P]            files and start script of a local network\n"
    "  devnet watch --dir DIR [--follow I] [--blocks N] [--json]\n"
    "                                           a live view of a local network's nodes\n"
    "  live --metrics HOST:PORT [--socket-path S] [--once]\n"
    "                                           a node's live view (q quits; plain text\n"
    "                                           when not on a terminal)\n"
    "  txgen --socket-path S --genesis-dir DIR --tps N --duration-s T\n"
    "                                           submit payments, report inclusion and latency\n"
    "  address show ADDRESS                     a Base58 Byron address\n"
    "  address build --verification-key-file F (--testnet-magic N | --mainnet)\n"
    "                                           a verification key's Byron address\n"
    "\n"
    "Exit codes: 0 ok, 1 invalid input (JSON error on stderr), 2 usage, 3 I/O failure.\n";

int main(int argc, char **argv) {
  /* A peer or node that closes while we write must cost an error we report
   * (exit 3), not a silent death: with SIGPIPE ignored the write fails
   * with EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("cardinal-cli %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
    return EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-cli: cannot initialise libsodium/OpenSSL\n");
    return EXIT_FAILURE_IO;
  }
  static const struct {
    const char *noun;
    int (*run)(int, char **);
  } NOUNS[] = {{"genesis", cmd_genesis}, {"block", cmd_block},   {"tx", cmd_tx},
               {"address", cmd_address}, {"chain", cmd_chain},   {"key", cmd_key},
               {"db", cmd_db},           {"sync", cmd_sync},     {"devnet", cmd_devnet},
               {"query", cmd_query},     {"submit", cmd_submit}, {"txgen", cmd_txgen},
               {"delegation", cmd_delegation}, {"governance", cmd_governance},
               {"live", cmd_live}};
  for (size_t i = 0; i < sizeof NOUNS / sizeof NOUNS[0]; i++) {
    if (strcmp(argv[1], NOUNS[i].noun) == 0) return NOUNS[i].run(argc - 1, argv + 1);
  }
  return cli_usage("unknown command '%s'", argv[1]);
}
