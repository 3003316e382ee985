// zkrs.h and the official ZooKeeper C client's header in one C++
// translation unit: no name clashes (everything of zkrs is prefixed), and
// the result numbers are checked against ZooKeeper's own at compile time.
#include <zookeeper/zookeeper.h>
#include <zkrs.h>

#include <cstdio>
#include <cstring>

static_assert(ZKRS_OK == ZOK, "ZOK");
static_assert(ZKRS_SYSTEMERROR == ZSYSTEMERROR, "ZSYSTEMERROR");
static_assert(ZKRS_RUNTIMEINCONSISTENCY == ZRUNTIMEINCONSISTENCY, "ZRUNTIMEINCONSISTENCY");
static_assert(ZKRS_DATAINCONSISTENCY == ZDATAINCONSISTENCY, "ZDATAINCONSISTENCY");
static_assert(ZKRS_CONNECTIONLOSS == ZCONNECTIONLOSS, "ZCONNECTIONLOSS");
static_assert(ZKRS_MARSHALLINGERROR == ZMARSHALLINGERROR, "ZMARSHALLINGERROR");
static_assert(ZKRS_UNIMPLEMENTED == ZUNIMPLEMENTED, "ZUNIMPLEMENTED");
static_assert(ZKRS_OPERATIONTIMEOUT == ZOPERATIONTIMEOUT, "ZOPERATIONTIMEOUT");
static_assert(ZKRS_BADARGUMENTS == ZBADARGUMENTS, "ZBADARGUMENTS");
static_assert(ZKRS_INVALIDSTATE == ZINVALIDSTATE, "ZINVALIDSTATE");
static_assert(ZKRS_NEWCONFIGNOQUORUM == ZNEWCONFIGNOQUORUM, "ZNEWCONFIGNOQUORUM");
static_assert(ZKRS_RECONFIGINPROGRESS == ZRECONFIGINPROGRESS, "ZRECONFIGINPROGRESS");
static_assert(ZKRS_SSLCONNECTIONERROR == ZSSLCONNECTIONERROR, "ZSSLCONNECTIONERROR");
static_assert(ZKRS_APIERROR == ZAPIERROR, "ZAPIERROR");
static_assert(ZKRS_NONODE == ZNONODE, "ZNONODE");
static_assert(ZKRS_NOAUTH == ZNOAUTH, "ZNOAUTH");
static_assert(ZKRS_BADVERSION == ZBADVERSION, "ZBADVERSION");
static_assert(ZKRS_NOCHILDRENFOREPHEMERALS == ZNOCHILDRENFOREPHEMERALS, "ZNOCHILDRENFOREPHEMERALS");
static_assert(ZKRS_NODEEXISTS == ZNODEEXISTS, "ZNODEEXISTS");
static_assert(ZKRS_NOTEMPTY == ZNOTEMPTY, "ZNOTEMPTY");
static_assert(ZKRS_SESSIONEXPIRED == ZSESSIONEXPIRED, "ZSESSIONEXPIRED");
static_assert(ZKRS_INVALIDCALLBACK == ZINVALIDCALLBACK, "ZINVALIDCALLBACK");
static_assert(ZKRS_INVALIDACL == ZINVALIDACL, "ZINVALIDACL");
static_assert(ZKRS_AUTHFAILED == ZAUTHFAILED, "ZAUTHFAILED");
static_assert(ZKRS_CLOSING == ZCLOSING, "ZCLOSING");
static_assert(ZKRS_NOTHING == ZNOTHING, "ZNOTHING");
static_assert(ZKRS_SESSIONMOVED == ZSESSIONMOVED, "ZSESSIONMOVED");
static_assert(ZKRS_NOTREADONLY == ZNOTREADONLY, "ZNOTREADONLY");
static_assert(ZKRS_EPHEMERALONLOCALSESSION == ZEPHEMERALONLOCALSESSION, "ZEPHEMERALONLOCALSESSION");
static_assert(ZKRS_NOWATCHER == ZNOWATCHER, "ZNOWATCHER");
static_assert(ZKRS_RECONFIGDISABLED == ZRECONFIGDISABLED, "ZRECONFIGDISABLED");
static_assert(ZKRS_SESSIONCLOSEDREQUIRESASLAUTH == ZSESSIONCLOSEDREQUIRESASLAUTH, "ZSESSIONCLOSEDREQUIRESASLAUTH");
static_assert(ZKRS_THROTTLEDOP == ZTHROTTLEDOP, "ZTHROTTLEDOP");

// Callbacks can be plain C++ functions with C linkage-compatible types.
static void on_watch(void *userdata, int type, int state, const char *path) {
    (void)userdata; (void)type; (void)state; (void)path;
}

int main() {
    zkrs_watch_fn w = on_watch;
    (void)w;
    zkrs_op op{};
    op.op_type = ZKRS_OP_CHECK;
    op.version = -1;
    if (op.op_type != ZKRS_OP_CHECK || op.version != -1) return 1;
    zkrs_member_free(nullptr);
    zkrs_client_free(nullptr);
    std::printf("C++ with zookeeper.h: libzkrs %s, ZKRS_NONODE = %s\n", zkrs_version(),
                zkrs_error_message(ZKRS_NONODE));
    return std::strlen(zkrs_version()) > 0 ? 0 : 1;
}
