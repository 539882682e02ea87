#!/usr/bin/env python3
"""Regenerate client/decode/netlink.toml: the netlink message-type and flag
sets, their names scanned from this machine's uapi headers (enumerators and
defines with a given prefix), their values from a compiled C program.

    python3 scripts/gen_netlink_sets.py > client/decode/netlink.toml

Names a header lists but the kernel calls limits (BASE, MAX, __*) are left out."""

import os
import re
import subprocess
import sys
import tempfile

INC = "/usr/include"

# set name, headers, name regex, dflt, fixed names (in printing order) or None
SETS = [
    ("nl_types", ["linux/netlink.h"], None, "NLMSG_???", ["NLMSG_NOOP", "NLMSG_ERROR", "NLMSG_DONE", "NLMSG_OVERRUN"]),
    ("nl_flags", ["linux/netlink.h"], None, "NLM_F_???",
     ["NLM_F_REQUEST", "NLM_F_MULTI", "NLM_F_ACK", "NLM_F_ECHO", "NLM_F_DUMP_INTR", "NLM_F_DUMP_FILTERED"]),
    ("nl_get_flags", ["linux/netlink.h"], None, None, ["NLM_F_DUMP", "NLM_F_ROOT", "NLM_F_MATCH", "NLM_F_ATOMIC"]),
    ("nl_new_flags", ["linux/netlink.h"], None, None, ["NLM_F_REPLACE", "NLM_F_EXCL", "NLM_F_CREATE", "NLM_F_APPEND"]),
    ("nl_delete_flags", ["linux/netlink.h"], None, None, ["NLM_F_NONREC", "NLM_F_BULK"]),
    ("nl_ack_flags", ["linux/netlink.h"], None, None, ["NLM_F_CAPPED", "NLM_F_ACK_TLVS"]),
    ("nl_route_types", ["linux/rtnetlink.h"], r"RTM_(NEW|DEL|GET|SET)[A-Z]+", "RTM_???", None),
    ("nl_xfrm_types", ["linux/xfrm.h"], r"XFRM_MSG_[A-Z]+", "XFRM_MSG_???", None),
    ("nl_crypto_types", ["linux/cryptouser.h"], r"CRYPTO_MSG_[A-Z]+", "CRYPTO_MSG_???", None),
    ("nl_selinux_types", ["linux/selinux_netlink.h"], r"SELNL_MSG_[A-Z]+", "SELNL_MSG_???", None),
    ("nl_sock_diag_types", ["linux/sock_diag.h", "linux/inet_diag.h"], None, "SOCK_DIAG_???",
     ["TCPDIAG_GETSOCK", "DCCPDIAG_GETSOCK", "SOCK_DIAG_BY_FAMILY", "SOCK_DESTROY"]),
    ("nl_audit_types", ["linux/audit.h"], r"AUDIT_[A-Z0-9_]+", "AUDIT_???", None),
    ("nl_netfilter_subsys", ["linux/netfilter/nfnetlink.h"], r"NFNL_SUBSYS_[A-Z_]+", "NFNL_SUBSYS_???", None),
    ("nl_netfilter_types", ["linux/netfilter/nfnetlink.h"], None, None, ["NFNL_MSG_BATCH_BEGIN", "NFNL_MSG_BATCH_END"]),
    ("nlmsgerr_attrs", ["linux/netlink.h"], r"NLMSGERR_ATTR_[A-Z_]+", "NLMSGERR_ATTR_???", None),
    # route family: the fixed headers' fields and the attribute names
    ("arp_hardware_types", ["linux/if_arp.h"], r"ARPHRD_[A-Z0-9_]+", "ARPHRD_???", None),
    ("iff_flags", ["linux/if.h"], r"IFF_[A-Z0-9_]+", "IFF_???", None),
    ("ifa_flags", ["linux/if_addr.h"], r"IFA_F_[A-Z0-9_]+", "IFA_F_???", None),
    ("rt_scopes", ["linux/rtnetlink.h"], r"RT_SCOPE_[A-Z]+", None, None),
    ("rt_tables", ["linux/rtnetlink.h"], r"RT_TABLE_[A-Z]+", None, None),
    ("rt_protos", ["linux/rtnetlink.h"], r"RTPROT_[A-Z0-9]+", "RTPROT_???", None),
    ("rt_types", ["linux/rtnetlink.h"], r"RTN_[A-Z]+", "RTN_???", None),
    ("rtm_flags", ["linux/rtnetlink.h"], r"RTM_F_[A-Z_]+", "RTM_F_???", None),
    ("nud_states", ["linux/neighbour.h"], r"NUD_[A-Z]+", "NUD_???", None),
    ("ntf_flags", ["linux/neighbour.h"], r"NTF_[A-Z_]+", "NTF_???", None),
    ("rtnl_link_attrs", ["linux/if_link.h"], r"IFLA_[A-Z0-9_]+", "IFLA_???", None),
    ("rtnl_addr_attrs", ["linux/if_addr.h"], r"IFA_[A-Z_]+", "IFA_???", None),
    ("rtnl_route_attrs", ["linux/rtnetlink.h"], r"RTA_[A-Z_]+", "RTA_???", None),
    ("rtnl_neigh_attrs", ["linux/neighbour.h"], r"NDA_[A-Z_]+", "NDA_???", None),
    # route family: the smaller messages (nsid, netconf, neighbour tables, address labels, cache reports)
    ("rtnl_nsid_attrs", ["linux/net_namespace.h"], r"NETNSA_[A-Z_]+", "NETNSA_???", None),
    ("rtnl_netconf_attrs", ["linux/netconf.h"], r"NETCONFA_[A-Z_]+", "NETCONFA_???", None),
    ("rtnl_neightbl_attrs", ["linux/neighbour.h"], r"NDTA_[A-Z0-9_]+", "NDTA_???", None),
    ("rtnl_neightbl_parms_attrs", ["linux/neighbour.h"], r"NDTPA_[A-Z0-9_]+", "NDTPA_???", None),
    ("rtnl_addrlabel_attrs", ["linux/if_addrlabel.h"], r"IFAL_[A-Z_]+", "IFAL_???", None),
    ("rtnl_family", ["linux/rtnetlink.h"], r"RTNL_FAMILY_[A-Z0-9]+", "RTNL_FAMILY_???", None),
    ("rtnl_ipmra_creport_attr", ["linux/mroute.h"], r"IPMRA_CREPORT_[A-Z_]+", "IPMRA_CREPORT_???", None),
    ("rtnl_ip6mra_creport_attr", ["linux/mroute6.h"], r"IP6MRA_CREPORT_[A-Z_]+", "IP6MRA_CREPORT_???", None),
    ("rtnl_ipmra_msg_types", ["linux/mroute.h"], None, "IGMPMSG_???",
     ["IGMPMSG_NOCACHE", "IGMPMSG_WRONGVIF", "IGMPMSG_WHOLEPKT", "IGMPMSG_WRVIFWHOLE"]),
    # strace 6.1 names the first three only (MRT6MSG_WRMIFWHOLE is newer)
    ("rtnl_ip6mra_msg_types", ["linux/mroute6.h"], None, "MRT6MSG_???",
     ["MRT6MSG_NOCACHE", "MRT6MSG_WRONGMIF", "MRT6MSG_WHOLEPKT"]),
    # route family: rules (fib_rule_hdr) and data centre bridging (dcbmsg)
    ("fib_rule_actions", ["linux/fib_rules.h"], r"FR_ACT_[A-Z0-9_]+", "FR_ACT_???", None),
    ("fib_rule_flags", ["linux/fib_rules.h"], None, "FIB_RULE_???",
     ["FIB_RULE_PERMANENT", "FIB_RULE_INVERT", "FIB_RULE_UNRESOLVED", "FIB_RULE_IIF_DETACHED",
      "FIB_RULE_OIF_DETACHED", "FIB_RULE_FIND_SADDR"]),
    ("rtnl_rule_attrs", ["linux/fib_rules.h"], r"FRA_[A-Z0-9_]+", "FRA_???", None),
    ("dcb_commands", ["linux/dcbnl.h"], r"DCB_CMD_[A-Z_]+", "DCB_CMD_???", None),
    ("rtnl_dcb_attrs", ["linux/dcbnl.h"], None, "DCB_ATTR_???",
     ["DCB_ATTR_UNDEFINED", "DCB_ATTR_IFNAME", "DCB_ATTR_STATE", "DCB_ATTR_PFC_STATE", "DCB_ATTR_PFC_CFG",
      "DCB_ATTR_NUM_TC", "DCB_ATTR_PG_CFG", "DCB_ATTR_SET_ALL", "DCB_ATTR_PERM_HWADDR", "DCB_ATTR_CAP",
      "DCB_ATTR_NUMTCS", "DCB_ATTR_BCN", "DCB_ATTR_APP", "DCB_ATTR_IEEE", "DCB_ATTR_DCBX", "DCB_ATTR_FEATCFG",
      "DCB_ATTR_CEE"]),
    # route family: traffic control, actions, bridge mdb, stats, nexthops (the names strace 6.1 has)
    ("rtnl_tc_attrs", ["linux/rtnetlink.h"], None, "TCA_???",
     ["TCA_UNSPEC", "TCA_KIND", "TCA_OPTIONS", "TCA_STATS", "TCA_XSTATS", "TCA_RATE", "TCA_FCNT", "TCA_STATS2", "TCA_STAB", "TCA_PAD", "TCA_DUMP_INVISIBLE", "TCA_CHAIN", "TCA_HW_OFFLOAD", "TCA_INGRESS_BLOCK", "TCA_EGRESS_BLOCK", "TCA_DUMP_FLAGS"]),
    ("rtnl_tc_action_attrs", ["linux/pkt_cls.h"], None, "TCA_ACT_???",
     ["TCA_ACT_UNSPEC", "TCA_ACT_KIND", "TCA_ACT_OPTIONS", "TCA_ACT_INDEX", "TCA_ACT_STATS", "TCA_ACT_PAD", "TCA_ACT_COOKIE", "TCA_ACT_FLAGS", "TCA_ACT_HW_STATS", "TCA_ACT_USED_HW_STATS", "TCA_ACT_IN_HW_COUNT"]),
    ("rtnl_mdb_attrs", ["linux/if_bridge.h"], None, "MDBA_???",
     ["MDBA_UNSPEC", "MDBA_MDB", "MDBA_ROUTER"]),
    ("ifstats_attrs", ["linux/if_link.h"], None, "IFLA_STATS_???",
     ["IFLA_STATS_UNSPEC", "IFLA_STATS_LINK_64", "IFLA_STATS_LINK_XSTATS", "IFLA_STATS_LINK_XSTATS_SLAVE", "IFLA_STATS_LINK_OFFLOAD_XSTATS", "IFLA_STATS_AF_SPEC"]),
    ("route_nexthop_flags", ["linux/rtnetlink.h"], None, "RTNH_F_???",
     ["RTNH_F_DEAD", "RTNH_F_PERVASIVE", "RTNH_F_ONLINK", "RTNH_F_OFFLOAD", "RTNH_F_LINKDOWN", "RTNH_F_UNRESOLVED", "RTNH_F_TRAP"]),
    ("rtnl_nexthop_attrs", ["linux/nexthop.h"], None, "NHA_???",
     ["NHA_UNSPEC", "NHA_ID", "NHA_GROUP", "NHA_GROUP_TYPE", "NHA_BLACKHOLE", "NHA_OIF", "NHA_GATEWAY", "NHA_ENCAP_TYPE", "NHA_ENCAP", "NHA_GROUPS", "NHA_MASTER", "NHA_FDB", "NHA_RES_GROUP", "NHA_RES_BUCKET"]),
    ("rtnl_tca_stats_attrs", ["linux/gen_stats.h"], None, "TCA_STATS_???",
     ["TCA_STATS_UNSPEC", "TCA_STATS_BASIC", "TCA_STATS_RATE_EST", "TCA_STATS_QUEUE", "TCA_STATS_APP", "TCA_STATS_RATE_EST64", "TCA_STATS_PAD", "TCA_STATS_BASIC_HW", "TCA_STATS_PKT64"]),
    ("rtnl_tca_stab_attrs", ["linux/pkt_sched.h"], None, "TCA_STAB_???",
     ["TCA_STAB_UNSPEC", "TCA_STAB_BASE", "TCA_STAB_DATA"]),
    ("rtnl_ifla_port_attrs", ["linux/if_link.h"], None, "IFLA_PORT_???",
     ["IFLA_PORT_UNSPEC", "IFLA_PORT_VF", "IFLA_PORT_PROFILE", "IFLA_PORT_VSI_TYPE", "IFLA_PORT_INSTANCE_UUID", "IFLA_PORT_HOST_UUID", "IFLA_PORT_REQUEST", "IFLA_PORT_RESPONSE"]),
    ("rtnl_ifla_info_attrs", ["linux/if_link.h"], None, "IFLA_INFO_???",
     ["IFLA_INFO_UNSPEC", "IFLA_INFO_KIND", "IFLA_INFO_DATA", "IFLA_INFO_XSTATS", "IFLA_INFO_SLAVE_KIND", "IFLA_INFO_SLAVE_DATA"]),
    ("rtnl_ifla_vf_port_attrs", ["linux/if_link.h"], None, "IFLA_VF_PORT_???",
     ["IFLA_VF_PORT_UNSPEC", "IFLA_VF_PORT"]),
    ("rtnl_ifla_ext_filter_flags", ["linux/rtnetlink.h"], None, "RTEXT_FILTER_???",
     ["RTEXT_FILTER_VF", "RTEXT_FILTER_BRVLAN", "RTEXT_FILTER_BRVLAN_COMPRESSED", "RTEXT_FILTER_SKIP_STATS", "RTEXT_FILTER_MRP", "RTEXT_FILTER_CFM_CONFIG", "RTEXT_FILTER_CFM_STATUS"]),
    ("rtnl_ifla_events", ["linux/if_link.h"], None, "IFLA_EVENT_???",
     ["IFLA_EVENT_NONE", "IFLA_EVENT_REBOOT", "IFLA_EVENT_FEATURES", "IFLA_EVENT_BONDING_FAILOVER", "IFLA_EVENT_NOTIFY_PEERS", "IFLA_EVENT_IGMP_RESEND", "IFLA_EVENT_BONDING_OPTIONS"]),
    ("rtnl_ifla_xdp_attrs", ["linux/if_link.h"], None, "IFLA_XDP_???",
     ["IFLA_XDP_UNSPEC", "IFLA_XDP_FD", "IFLA_XDP_ATTACHED", "IFLA_XDP_FLAGS", "IFLA_XDP_PROG_ID", "IFLA_XDP_DRV_PROG_ID", "IFLA_XDP_SKB_PROG_ID", "IFLA_XDP_HW_PROG_ID", "IFLA_XDP_EXPECTED_FD"]),
    ("rtnl_ifla_xdp_attached_mode", ["linux/if_link.h"], None, "XDP_ATTACHED_???",
     ["XDP_ATTACHED_NONE", "XDP_ATTACHED_DRV", "XDP_ATTACHED_SKB", "XDP_ATTACHED_HW", "XDP_ATTACHED_MULTI"]),
    ("xdp_flags", ["linux/if_link.h"], None, "XDP_FLAGS_???",
     ["XDP_FLAGS_MODES", "XDP_FLAGS_UPDATE_IF_NOEXIST", "XDP_FLAGS_SKB_MODE", "XDP_FLAGS_DRV_MODE", "XDP_FLAGS_HW_MODE", "XDP_FLAGS_REPLACE"]),
    ("rtnl_ifla_proto_down_reason_attrs", ["linux/if_link.h"], None, "IFLA_PROTO_DOWN_REASON_???",
     ["IFLA_PROTO_DOWN_REASON_UNSPEC", "IFLA_PROTO_DOWN_REASON_MASK", "IFLA_PROTO_DOWN_REASON_VALUE"]),
    ("rtnl_tca_act_flags", ["linux/pkt_cls.h"], None, "TCA_ACT_FLAGS_???",
     ["TCA_ACT_FLAGS_NO_PERCPU_STATS", "TCA_ACT_FLAGS_SKIP_HW", "TCA_ACT_FLAGS_SKIP_SW"]),
    ("rtnl_tca_act_hw_stats", ["linux/pkt_cls.h"], None, "TCA_ACT_HW_STATS_???",
     ["TCA_ACT_HW_STATS_IMMEDIATE", "TCA_ACT_HW_STATS_DELAYED"]),
    ("rtnl_mdba_router_attrs", ["linux/if_bridge.h"], None, "MDBA_ROUTER_???",
     ["MDBA_ROUTER_UNSPEC", "MDBA_ROUTER_PORT"]),
    ("rtnl_mdba_router_pattr_attrs", ["linux/if_bridge.h"], None, "MDBA_ROUTER_PATTR_???",
     ["MDBA_ROUTER_PATTR_UNSPEC", "MDBA_ROUTER_PATTR_TIMER", "MDBA_ROUTER_PATTR_TYPE", "MDBA_ROUTER_PATTR_INET_TIMER", "MDBA_ROUTER_PATTR_INET6_TIMER"]),
    ("multicast_router_types", ["linux/if_bridge.h"], None, "MDB_RTR_TYPE_???",
     ["MDB_RTR_TYPE_DISABLED", "MDB_RTR_TYPE_TEMP_QUERY", "MDB_RTR_TYPE_PERM", "MDB_RTR_TYPE_TEMP"]),
    # an AF_INET6 link's attributes (IFLA_PROTINFO, IFLA_AF_SPEC) and their indexed arrays
    ("rtnl_ifla_af_spec_inet6_attrs", ["linux/if_link.h"], None, "IFLA_INET6_???",
     ["IFLA_INET6_UNSPEC", "IFLA_INET6_FLAGS", "IFLA_INET6_CONF", "IFLA_INET6_STATS", "IFLA_INET6_MCAST",
      "IFLA_INET6_CACHEINFO", "IFLA_INET6_ICMP6STATS", "IFLA_INET6_TOKEN", "IFLA_INET6_ADDR_GEN_MODE",
      "IFLA_INET6_RA_MTU"]),
    ("inet6_devconf_indices", ["linux/ipv6.h"], r"DEVCONF_[A-Z0-9_]+", "DEVCONF_???", None),
    ("snmp_ip_stats", ["linux/snmp.h"], r"IPSTATS_MIB_[A-Z0-9_]+", "IPSTATS_MIB_???", None),
    ("snmp_icmp6_stats", ["linux/snmp.h"], r"ICMP6_MIB_[A-Z0-9_]+", "ICMP6_MIB_???", None),
    ("in6_addr_gen_mode", ["linux/if_link.h"], r"IN6_ADDR_GEN_MODE_[A-Z0-9_]+", "IN6_ADDR_GEN_MODE_???", None),
    # a link's virtual functions (IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_*; strace 6.1's names)
    ("rtnl_ifla_vfinfo_list_attrs", ["linux/if_link.h"], None, "IFLA_VF_INFO_???", ["IFLA_VF_INFO_UNSPEC", "IFLA_VF_INFO"]),
    ("rtnl_ifla_vf_info_attrs", ["linux/if_link.h"], None, "IFLA_VF_???",
     ["IFLA_VF_UNSPEC", "IFLA_VF_MAC", "IFLA_VF_VLAN", "IFLA_VF_TX_RATE", "IFLA_VF_SPOOFCHK", "IFLA_VF_LINK_STATE", "IFLA_VF_RATE", "IFLA_VF_RSS_QUERY_EN", "IFLA_VF_STATS", "IFLA_VF_TRUST", "IFLA_VF_IB_NODE_GUID", "IFLA_VF_IB_PORT_GUID", "IFLA_VF_VLAN_LIST", "IFLA_VF_BROADCAST"]),
    ("rtnl_ifla_vf_link_states", ["linux/if_link.h"], None, "IFLA_VF_LINK_STATE_???",
     ["IFLA_VF_LINK_STATE_AUTO", "IFLA_VF_LINK_STATE_ENABLE", "IFLA_VF_LINK_STATE_DISABLE"]),
    ("rtnl_ifla_vf_stats_attrs", ["linux/if_link.h"], None, "IFLA_VF_STATS_???",
     ["IFLA_VF_STATS_RX_PACKETS", "IFLA_VF_STATS_TX_PACKETS", "IFLA_VF_STATS_RX_BYTES", "IFLA_VF_STATS_TX_BYTES", "IFLA_VF_STATS_BROADCAST", "IFLA_VF_STATS_MULTICAST", "IFLA_VF_STATS_PAD", "IFLA_VF_STATS_RX_DROPPED", "IFLA_VF_STATS_TX_DROPPED"]),
    ("rtnl_ifla_vf_vlan_list_attrs", ["linux/if_link.h"], None, "IFLA_VF_VLAN_INFO_???",
     ["IFLA_VF_VLAN_INFO_UNSPEC", "IFLA_VF_VLAN_INFO"]),
    # bridge port attributes (IFLA_PROTINFO of an AF_BRIDGE link; the names strace 6.1 has)
    ("rtnl_ifla_brport_attrs", ["linux/if_link.h"], None, "IFLA_BRPORT_???",
     ["IFLA_BRPORT_UNSPEC", "IFLA_BRPORT_STATE", "IFLA_BRPORT_PRIORITY", "IFLA_BRPORT_COST", "IFLA_BRPORT_MODE", "IFLA_BRPORT_GUARD", "IFLA_BRPORT_PROTECT", "IFLA_BRPORT_FAST_LEAVE", "IFLA_BRPORT_LEARNING", "IFLA_BRPORT_UNICAST_FLOOD", "IFLA_BRPORT_PROXYARP", "IFLA_BRPORT_LEARNING_SYNC", "IFLA_BRPORT_PROXYARP_WIFI", "IFLA_BRPORT_ROOT_ID", "IFLA_BRPORT_BRIDGE_ID", "IFLA_BRPORT_DESIGNATED_PORT", "IFLA_BRPORT_DESIGNATED_COST", "IFLA_BRPORT_ID", "IFLA_BRPORT_NO", "IFLA_BRPORT_TOPOLOGY_CHANGE_ACK", "IFLA_BRPORT_CONFIG_PENDING", "IFLA_BRPORT_MESSAGE_AGE_TIMER", "IFLA_BRPORT_FORWARD_DELAY_TIMER", "IFLA_BRPORT_HOLD_TIMER", "IFLA_BRPORT_FLUSH", "IFLA_BRPORT_MULTICAST_ROUTER", "IFLA_BRPORT_PAD", "IFLA_BRPORT_MCAST_FLOOD", "IFLA_BRPORT_MCAST_TO_UCAST", "IFLA_BRPORT_VLAN_TUNNEL", "IFLA_BRPORT_BCAST_FLOOD", "IFLA_BRPORT_GROUP_FWD_MASK", "IFLA_BRPORT_NEIGH_SUPPRESS", "IFLA_BRPORT_ISOLATED", "IFLA_BRPORT_BACKUP_PORT", "IFLA_BRPORT_MRP_RING_OPEN", "IFLA_BRPORT_MRP_IN_OPEN", "IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT", "IFLA_BRPORT_MCAST_EHT_HOSTS_CNT", "IFLA_BRPORT_LOCKED"]),
    # bridge mdb entries (the names strace 6.1 has: MDBA_MDB_EATTR_DST and later are newer)
    ("rtnl_mdba_mdb_attrs", ["linux/if_bridge.h"], None, "MDBA_MDB_???", ["MDBA_MDB_UNSPEC", "MDBA_MDB_ENTRY"]),
    ("rtnl_mdba_mdb_entry_attrs", ["linux/if_bridge.h"], None, "MDBA_MDB_ENTRY_???",
     ["MDBA_MDB_ENTRY_UNSPEC", "MDBA_MDB_ENTRY_INFO"]),
    ("rtnl_mdba_mdb_eattr_attrs", ["linux/if_bridge.h"], None, "MDBA_MDB_EATTR_???",
     ["MDBA_MDB_EATTR_UNSPEC", "MDBA_MDB_EATTR_TIMER", "MDBA_MDB_EATTR_SRC_LIST", "MDBA_MDB_EATTR_GROUP_MODE",
      "MDBA_MDB_EATTR_SOURCE", "MDBA_MDB_EATTR_RTPROT"]),
    ("mdb_states", ["linux/if_bridge.h"], None, "MDB_???", ["MDB_TEMPORARY", "MDB_PERMANENT"]),
    ("mdb_flags", ["linux/if_bridge.h"], None, "MDB_FLAGS_???",
     ["MDB_FLAGS_OFFLOAD", "MDB_FLAGS_FAST_LEAVE", "MDB_FLAGS_STAR_EXCL", "MDB_FLAGS_BLOCKED"]),
    # sock_diag requests' show flags, packet sockets
    ("unix_diag_show", ["linux/unix_diag.h"], r"UDIAG_SHOW_[A-Z]+", "UDIAG_SHOW_???", None),
    ("netlink_diag_show", ["linux/netlink_diag.h"], r"NDIAG_SHOW_[A-Z_]+", "NDIAG_SHOW_???", None),
    ("packet_diag_show", ["linux/packet_diag.h"], r"PACKET_SHOW_[A-Z_]+", "PACKET_SHOW_???", None),
    ("packet_diag_attrs", ["linux/packet_diag.h"], None, "PACKET_DIAG_???",
     ["PACKET_DIAG_INFO", "PACKET_DIAG_MCLIST", "PACKET_DIAG_RX_RING", "PACKET_DIAG_TX_RING", "PACKET_DIAG_FANOUT",
      "PACKET_DIAG_UID", "PACKET_DIAG_MEMINFO", "PACKET_DIAG_FILTER"]),
    ("smc_diag_attrs", ["linux/smc_diag.h"], None, "SMC_DIAG_???",
     ["SMC_DIAG_NONE", "SMC_DIAG_CONNINFO", "SMC_DIAG_LGRINFO", "SMC_DIAG_SHUTDOWN", "SMC_DIAG_DMBINFO",
      "SMC_DIAG_FALLBACK"]),
    ("ethernet_protocols", ["linux/if_ether.h"], r"ETH_P_[A-Z0-9_]+", "ETH_P_???", None),
    ("unix_diag_attrs", ["linux/unix_diag.h"], None, "UNIX_DIAG_???",
     ["UNIX_DIAG_NAME", "UNIX_DIAG_VFS", "UNIX_DIAG_PEER", "UNIX_DIAG_ICONS", "UNIX_DIAG_RQLEN", "UNIX_DIAG_MEMINFO", "UNIX_DIAG_SHUTDOWN", "UNIX_DIAG_UID"]),
    ("netlink_diag_attrs", ["linux/netlink_diag.h"], None, "NETLINK_DIAG_???",
     ["NETLINK_DIAG_MEMINFO", "NETLINK_DIAG_GROUPS", "NETLINK_DIAG_RX_RING", "NETLINK_DIAG_TX_RING", "NETLINK_DIAG_FLAGS"]),
    ("netlink_socket_flags", ["linux/netlink_diag.h"], None, "NDIAG_FLAG_???",
     ["NDIAG_FLAG_CB_RUNNING", "NDIAG_FLAG_PKTINFO", "NDIAG_FLAG_BROADCAST_ERROR", "NDIAG_FLAG_NO_ENOBUFS", "NDIAG_FLAG_LISTEN_ALL_NSID", "NDIAG_FLAG_CAP_ACK"]),
    ("rtnl_neigh_fdb_ext_attrs", ["linux/neighbour.h"], None, "NFEA_???",
     ["NFEA_UNSPEC", "NFEA_ACTIVITY_NOTIFY", "NFEA_DONT_REFRESH"]),
    ("fdb_notify_flags", ["linux/neighbour.h"], None, "FDB_NOTIFY_???",
     ["FDB_NOTIFY_BIT", "FDB_NOTIFY_INACTIVE_BIT"]),
    ("neighbor_cache_entry_ext_flags", ["linux/neighbour.h"], None, "NTF_EXT_???",
     ["NTF_EXT_MANAGED"]),
    ("rtnl_rta_metrics_attrs", ["linux/rtnetlink.h"], None, "RTAX_???",
     ["RTAX_UNSPEC", "RTAX_LOCK", "RTAX_MTU", "RTAX_WINDOW", "RTAX_RTT", "RTAX_RTTVAR", "RTAX_SSTHRESH", "RTAX_CWND", "RTAX_ADVMSS", "RTAX_REORDERING", "RTAX_HOPLIMIT", "RTAX_INITCWND", "RTAX_FEATURES", "RTAX_RTO_MIN", "RTAX_INITRWND", "RTAX_QUICKACK", "RTAX_CC_ALGO", "RTAX_FASTOPEN_NO_COOKIE"]),
    ("lwtunnel_encap_types", ["linux/lwtunnel.h"], None, "LWTUNNEL_ENCAP_???",
     ["LWTUNNEL_ENCAP_NONE", "LWTUNNEL_ENCAP_MPLS", "LWTUNNEL_ENCAP_IP", "LWTUNNEL_ENCAP_ILA", "LWTUNNEL_ENCAP_IP6", "LWTUNNEL_ENCAP_SEG6", "LWTUNNEL_ENCAP_BPF", "LWTUNNEL_ENCAP_SEG6_LOCAL", "LWTUNNEL_ENCAP_RPL"]),
    ("inet_diag_req_attrs", ["linux/inet_diag.h"], None, "INET_DIAG_REQ_???",
     ["INET_DIAG_REQ_NONE", "INET_DIAG_REQ_BYTECODE", "INET_DIAG_REQ_SK_BPF_STORAGES", "INET_DIAG_REQ_PROTOCOL"]),
    ("rtnl_nexthop_grp_types", ["linux/nexthop.h"], None, "NEXTHOP_GRP_TYPE_???",
     ["NEXTHOP_GRP_TYPE_MPATH", "NEXTHOP_GRP_TYPE_RES"]),
    ("rtnl_nha_res_group_attrs", ["linux/nexthop.h"], None, "NHA_RES_GROUP_???",
     ["NHA_RES_GROUP_PAD", "NHA_RES_GROUP_BUCKETS", "NHA_RES_GROUP_IDLE_TIMER", "NHA_RES_GROUP_UNBALANCED_TIMER", "NHA_RES_GROUP_UNBALANCED_TIME"]),
    ("rtnl_nha_res_bucket_attrs", ["linux/nexthop.h"], None, "NHA_RES_BUCKET_???",
     ["NHA_RES_BUCKET_PAD", "NHA_RES_BUCKET_INDEX", "NHA_RES_BUCKET_IDLE_TIME", "NHA_RES_BUCKET_NH_ID"]),
    # netfilter: each subsystem's message types (the low byte of nlmsg_type)
    ("nf_ctnetlink_types", ["linux/netfilter/nfnetlink_conntrack.h"], r"IPCTNL_MSG_CT_[A-Z_]+", "IPCTNL_MSG_CT_???", None),
    ("nf_ctnetlink_exp_types", ["linux/netfilter/nfnetlink_conntrack.h"], r"IPCTNL_MSG_EXP_[A-Z_]+", "IPCTNL_MSG_EXP_???", None),
    ("nf_queue_types", ["linux/netfilter/nfnetlink_queue.h"], r"NFQNL_MSG_[A-Z_]+", "NFQNL_MSG_???", None),
    ("nf_ulog_types", ["linux/netfilter/nfnetlink_log.h"], r"NFULNL_MSG_[A-Z_]+", "NFULNL_MSG_???", None),
    ("nf_osf_types", ["linux/netfilter/nfnetlink_osf.h"], r"OSF_MSG_[A-Z_]+", "OSF_MSG_???", None),
    ("nf_ipset_types", ["linux/netfilter/ipset/ip_set.h"], r"IPSET_CMD_[A-Z_]+", "IPSET_CMD_???", None),
    ("nf_acct_types", ["linux/netfilter/nfnetlink_acct.h"], r"NFNL_MSG_ACCT_[A-Z_]+", "NFNL_MSG_ACCT_???", None),
    ("nf_cttimeout_types", ["linux/netfilter/nfnetlink_cttimeout.h"], r"IPCTNL_MSG_TIMEOUT_[A-Z_]+", "IPCTNL_MSG_TIMEOUT_???", None),
    ("nf_cthelper_types", ["linux/netfilter/nfnetlink_cthelper.h"], r"NFNL_MSG_CTHELPER_[A-Z_]+", "NFNL_MSG_CTHELPER_???", None),
    ("nf_nftables_types", ["linux/netfilter/nf_tables.h"], r"NFT_MSG_[A-Z_]+", "NFT_MSG_???", None),
    ("nf_nft_compat_types", ["linux/netfilter/nf_tables_compat.h"], r"NFNL_MSG_COMPAT_[A-Z_]+", "NFNL_MSG_COMPAT_???", None),
    ("nf_hook_types", ["linux/netfilter/nfnetlink_hook.h"], r"NFNL_MSG_HOOK_[A-Z_]+", "NFT_MSG_HOOK_???", None),
    # sock_diag: inet_diag replies' attributes
    ("inet_diag_attrs", ["linux/inet_diag.h"], r"INET_DIAG_[A-Z0-9_]+", "INET_DIAG_???", None),
    # inet_diag requests' filter bytecode operations
    ("inet_diag_bytecodes", ["linux/inet_diag.h"], None, "INET_DIAG_BC_???",
     ["INET_DIAG_BC_NOP", "INET_DIAG_BC_JMP", "INET_DIAG_BC_S_GE", "INET_DIAG_BC_S_LE", "INET_DIAG_BC_D_GE",
      "INET_DIAG_BC_D_LE", "INET_DIAG_BC_AUTO", "INET_DIAG_BC_S_COND", "INET_DIAG_BC_D_COND", "INET_DIAG_BC_DEV_COND",
      "INET_DIAG_BC_MARK_COND", "INET_DIAG_BC_S_EQ", "INET_DIAG_BC_D_EQ", "INET_DIAG_BC_CGROUP_COND"]),
    # sock_diag replies' attribute values: socket memory words, packet sockets' info
    ("sk_meminfo", ["linux/sock_diag.h"], None, "SK_MEMINFO_???",
     ["SK_MEMINFO_RMEM_ALLOC", "SK_MEMINFO_RCVBUF", "SK_MEMINFO_WMEM_ALLOC", "SK_MEMINFO_SNDBUF",
      "SK_MEMINFO_FWD_ALLOC", "SK_MEMINFO_WMEM_QUEUED", "SK_MEMINFO_OPTMEM", "SK_MEMINFO_BACKLOG", "SK_MEMINFO_DROPS"]),
    ("af_packet_versions", ["linux/if_packet.h"], None, "TPACKET_???", ["TPACKET_V1", "TPACKET_V2", "TPACKET_V3"]),
    ("packet_diag_info_flags", ["linux/packet_diag.h"], None, "PDI_???",
     ["PDI_RUNNING", "PDI_AUXDATA", "PDI_ORIGDEV", "PDI_VNETHDR", "PDI_LOSS"]),
    # RTM_GETSTATS: extended stats by link type, offload stats, MPLS's (strace 6.1's names)
    ("ifstats_xstats_type_attrs", ["linux/if_link.h"], None, "LINK_XSTATS_TYPE_???",
     ["LINK_XSTATS_TYPE_UNSPEC", "LINK_XSTATS_TYPE_BRIDGE", "LINK_XSTATS_TYPE_BOND"]),
    ("ifstats_xstats_bridge_attrs", ["linux/if_bridge.h"], None, "BRIDGE_XSTATS_???",
     ["BRIDGE_XSTATS_UNSPEC", "BRIDGE_XSTATS_VLAN", "BRIDGE_XSTATS_MCAST", "BRIDGE_XSTATS_PAD", "BRIDGE_XSTATS_STP"]),
    ("ifstats_xstats_bridge_mcast_indices", ["linux/if_bridge.h"], None, "BR_MCAST_DIR_???",
     ["BR_MCAST_DIR_RX", "BR_MCAST_DIR_TX"]),
    ("ifstats_xstats_bond_attrs", ["linux/if_bonding.h"], None, "BOND_XSTATS_???", ["BOND_XSTATS_UNSPEC", "BOND_XSTATS_3AD"]),
    # (an unknown one is printed as BOND_XSTATS_??? by strace 6.1)
    ("ifstats_xstats_bond_3ad_attrs", ["linux/if_bonding.h"], None, "BOND_XSTATS_???",
     ["BOND_3AD_STAT_LACPDU_RX", "BOND_3AD_STAT_LACPDU_TX", "BOND_3AD_STAT_LACPDU_UNKNOWN_RX",
      "BOND_3AD_STAT_LACPDU_ILLEGAL_RX", "BOND_3AD_STAT_MARKER_RX", "BOND_3AD_STAT_MARKER_TX",
      "BOND_3AD_STAT_MARKER_RESP_RX", "BOND_3AD_STAT_MARKER_RESP_TX", "BOND_3AD_STAT_MARKER_UNKNOWN_RX",
      "BOND_3AD_STAT_PAD"]),
    ("ifstats_offload_attrs", ["linux/if_link.h"], None, "IFLA_OFFLOAD_XSTATS_???",
     ["IFLA_OFFLOAD_XSTATS_UNSPEC", "IFLA_OFFLOAD_XSTATS_CPU_HIT"]),
    ("ifstats_af_spec_mpls_attrs", ["linux/mpls.h"], None, "MPLS_STATS_???", ["MPLS_STATS_UNSPEC", "MPLS_STATS_LINK"]),
    ("nl_bridge_vlan_flags", ["linux/if_bridge.h"], None, "BRIDGE_VLAN_INFO_???",
     ["BRIDGE_VLAN_INFO_MASTER", "BRIDGE_VLAN_INFO_PVID", "BRIDGE_VLAN_INFO_UNTAGGED", "BRIDGE_VLAN_INFO_RANGE_BEGIN",
      "BRIDGE_VLAN_INFO_RANGE_END", "BRIDGE_VLAN_INFO_BRENTRY", "BRIDGE_VLAN_INFO_ONLY_OPTS"]),
]
# attribute enums: only the top-level names, in the enum's own order
ATTR_FILTER = {
    "rtnl_link_attrs": lambda n: n in ("IFLA_VF_PORTS", "IFLA_PORT_SELF") or re.fullmatch(r"IFLA_[A-Z0-9_]+", n) and not re.match(
        r"IFLA_(INET6?|BR|BRPORT|VF|PORT|IPOIB|HSR|MACSEC|XDP|BOND|VLAN|MACVLAN|VXLAN|GENEVE|GRE|IPTUN|PPP|GTP|RMNET|TUN|VRF|IPVLAN|STATS|OFFLOAD|EVENT|PROTO_DOWN_REASON|MCTP|DSA|BAREUDP|CAN|HSR)_", n),
    "rtnl_addr_attrs": lambda n: not n.startswith("IFA_F_"),
    "rtnl_route_attrs": lambda n: not n.startswith(("RTA_ALIGN",)),
    "rt_scopes": lambda n: True,
    "ntf_flags": lambda n: n == "NTF_EXT_LEARNED" or not n.startswith("NTF_EXT_"),
    "nl_netfilter_subsys": lambda n: n != "NFNL_SUBSYS_COUNT",
    "rtnl_nsid_attrs": lambda n: n != "NETNSA_NSID_NOT_ASSIGNED",
    "rtnl_netconf_attrs": lambda n: n not in ("NETCONFA_ALL", "NETCONFA_IFINDEX_ALL", "NETCONFA_IFINDEX_DEFAULT"),
    "rtnl_family": lambda n: n != "RTNL_FAMILY_MAX",
    "rtnl_rule_attrs": lambda n: n != "FRA_IFNAME",
    # names newer than strace 6.1
    "inet6_devconf_indices": lambda n: n != "DEVCONF_ACCEPT_RA_MIN_LFT",
    "snmp_icmp6_stats": lambda n: n != "ICMP6_MIB_RATELIMITHOST",
    # types newer than strace 6.1 print as RTM_??? there
    "nl_route_types": lambda n: n != "RTM_SETSTATS" and not n.endswith("TUNNEL"),
    "inet_diag_attrs": lambda n: not re.match(r"INET_DIAG_(REQ_|BC_|NOCOOKIE|GETSOCK|(UNSPEC|NONE)$)", n) or n == "INET_DIAG_NONE",
}
SINGLE_VALUE = {"rt_scopes", "rt_tables", "rt_protos", "rt_types", "nud_states"}
SKIP = re.compile(r"(_BASE|_MAX|_NR_.*|_FIRST.*|_LAST.*)$")


def scan(headers, rx):
    names = []
    for h in headers:
        text = open(os.path.join(INC, h)).read()
        for m in re.finditer(r"(?m)^\s*(?:#define\s+)?(" + rx + r")\b(?!\()", text):
            n = m.group(1)
            if n.startswith("__") or SKIP.search(n) or n in names:
                continue
            names.append(n)
    return names


def values(headers, names):
    src = "#include <stdio.h>\n#include <sys/socket.h>\n#include <linux/netlink.h>\n" + "".join(f"#include <{h}>\n" for h in headers)
    src += "int main(void){\n" + "".join(f'printf("%lld\\n", (long long)({n}));\n' for n in names) + "return 0;}\n"
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "v.c"), os.path.join(d, "v")
        open(c, "w").write(src)
        r = subprocess.run(["cc", "-w", "-o", exe, c], capture_output=True, text=True)
        if r.returncode:
            bad = set(re.findall(r"[\u2018'](\w+)[\u2019'] undeclared", r.stderr))
            if not bad & set(names):
                sys.exit(r.stderr)
            keep = [n for n in names if n not in bad]
            return values(headers, keep)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split()
    return list(zip(names, map(int, out)))


def main():
    print("# Netlink message types and flags, generated by scripts/gen_netlink_sets.py")
    print("# from this machine's uapi headers (names scanned, values compiled). Do not edit.\n")
    for name, headers, rx, dflt, fixed in SETS:
        names = fixed or scan(headers, rx)
        if name in ATTR_FILTER:
            names = [n for n in names if ATTR_FILTER[name](n)]
        items = values(headers, names)
        if name == "nl_audit_types":  # message types only (1000..2999), not the filter/field constants
            items = [(n, v) for n, v in items if 1000 <= v <= 2999]
        print(f"[{name}]")
        print(f'header = "include/uapi/{headers[0]}"')
        if dflt:
            print(f'dflt = "{dflt}"')
        print("items = [" + ", ".join(f'["{n}", {v:#x}]' for n, v in items) + "]\n")


main()
