/* SPDX-License-Identifier: MIT */
/*
 * Win32 error codes and SSPI's SECURITY_STATUS codes, with Windows' names and
 * numbers ([MS-ERREF] 2.2 and 2.1): the ERROR_* values that
 * LsaNtStatusToWinError returns (ntsecapi.h), and the SEC_E_* / SEC_I_*
 * results of the SSPI entry points of a package (sspi.h).
 */
#ifndef LSASHM_WINERROR_H
#define LSASHM_WINERROR_H

#include "lsashm/wintypes.h"

/* HRESULTs (SEC_E_* among them): the top bit says failure. */
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr)    (((HRESULT)(hr)) < 0)

/* ---- Win32 errors (a DWORD, as GetLastError returns them; plain int
 * constants here, since long is 64 bits on Linux) ---- */
#define NO_ERROR                                0
#define ERROR_SUCCESS                           0
#define ERROR_INVALID_FUNCTION                  1
#define ERROR_FILE_NOT_FOUND                    2
#define ERROR_PATH_NOT_FOUND                    3
#define ERROR_ACCESS_DENIED                     5
#define ERROR_INVALID_HANDLE                    6
#define ERROR_NOT_ENOUGH_MEMORY                 8
#define ERROR_OUTOFMEMORY                       14
#define ERROR_NO_MORE_FILES                     18
#define ERROR_CRC                               23
#define ERROR_BAD_LENGTH                        24
#define ERROR_GEN_FAILURE                       31
#define ERROR_SHARING_VIOLATION                 32
#define ERROR_HANDLE_EOF                        38
#define ERROR_NOT_SUPPORTED                     50
#define ERROR_BAD_NET_RESP                      58
#define ERROR_UNEXP_NET_ERR                     59
#define ERROR_NETNAME_DELETED                   64
#define ERROR_REQ_NOT_ACCEP                     71
#define ERROR_INVALID_PASSWORD                  86
#define ERROR_INVALID_PARAMETER                 87
#define ERROR_SEM_TIMEOUT                       121
#define ERROR_INSUFFICIENT_BUFFER               122
#define ERROR_INVALID_NAME                      123
#define ERROR_MOD_NOT_FOUND                     126
#define ERROR_PROC_NOT_FOUND                    127
#define ERROR_BAD_PATHNAME                      161
#define ERROR_ALREADY_EXISTS                    183
#define ERROR_BAD_EXE_FORMAT                    193
#define ERROR_FILENAME_EXCED_RANGE              206
#define ERROR_MORE_DATA                         234
#define WAIT_TIMEOUT                            258
#define ERROR_NO_MORE_ITEMS                     259
#define ERROR_MR_MID_NOT_FOUND                  317
#define ERROR_INVALID_ADDRESS                   487
#define ERROR_ARITHMETIC_OVERFLOW               534
#define ERROR_OPERATION_ABORTED                 995
#define ERROR_IO_PENDING                        997
#define ERROR_NOACCESS                          998
#define ERROR_NO_TOKEN                          1008
#define ERROR_NOT_FOUND                         1168
#define ERROR_CONNECTION_REFUSED                1225
#define ERROR_REQUEST_ABORTED                   1235
#define ERROR_DOWNGRADE_DETECTED                1265
#define ERROR_NOT_ALL_ASSIGNED                  1300
#define ERROR_SOME_NOT_MAPPED                   1301
#define ERROR_UNKNOWN_REVISION                  1305
#define ERROR_REVISION_MISMATCH                 1306
#define ERROR_INVALID_OWNER                     1307
#define ERROR_INVALID_PRIMARY_GROUP             1308
#define ERROR_NO_IMPERSONATION_TOKEN            1309
#define ERROR_NO_LOGON_SERVERS                  1311
#define ERROR_NO_SUCH_LOGON_SESSION             1312
#define ERROR_NO_SUCH_PRIVILEGE                 1313
#define ERROR_PRIVILEGE_NOT_HELD                1314
#define ERROR_INVALID_ACCOUNT_NAME              1315
#define ERROR_USER_EXISTS                       1316
#define ERROR_NO_SUCH_USER                      1317
#define ERROR_GROUP_EXISTS                      1318
#define ERROR_NO_SUCH_GROUP                     1319
#define ERROR_MEMBER_IN_GROUP                   1320
#define ERROR_MEMBER_NOT_IN_GROUP               1321
#define ERROR_LAST_ADMIN                        1322
#define ERROR_WRONG_PASSWORD                    1323
#define ERROR_ILL_FORMED_PASSWORD               1324
#define ERROR_PASSWORD_RESTRICTION              1325
#define ERROR_LOGON_FAILURE                     1326
#define ERROR_ACCOUNT_RESTRICTION               1327
#define ERROR_INVALID_LOGON_HOURS               1328
#define ERROR_INVALID_WORKSTATION               1329
#define ERROR_PASSWORD_EXPIRED                  1330
#define ERROR_ACCOUNT_DISABLED                  1331
#define ERROR_NONE_MAPPED                       1332
#define ERROR_TOO_MANY_LUIDS_REQUESTED          1333
#define ERROR_LUIDS_EXHAUSTED                   1334
#define ERROR_INVALID_SUB_AUTHORITY             1335
#define ERROR_INVALID_ACL                       1336
#define ERROR_INVALID_SID                       1337
#define ERROR_INVALID_SECURITY_DESCR            1338
#define ERROR_BAD_INHERITANCE_ACL               1340
#define ERROR_BAD_VALIDATION_CLASS              1348
#define ERROR_BAD_TOKEN_TYPE                    1349
#define ERROR_CANT_ACCESS_DOMAIN_INFO           1351
#define ERROR_INVALID_SERVER_STATE              1352
#define ERROR_INVALID_DOMAIN_STATE              1353
#define ERROR_INVALID_DOMAIN_ROLE               1354
#define ERROR_NO_SUCH_DOMAIN                    1355
#define ERROR_DOMAIN_EXISTS                     1356
#define ERROR_INTERNAL_DB_CORRUPTION            1358
#define ERROR_INTERNAL_ERROR                    1359
#define ERROR_NOT_LOGON_PROCESS                 1362
#define ERROR_LOGON_SESSION_EXISTS              1363
#define ERROR_NO_SUCH_PACKAGE                   1364
#define ERROR_BAD_LOGON_SESSION_STATE           1365
#define ERROR_LOGON_SESSION_COLLISION           1366
#define ERROR_INVALID_LOGON_TYPE                1367
#define ERROR_NO_SUCH_ALIAS                     1376
#define ERROR_MEMBER_NOT_IN_ALIAS               1377
#define ERROR_MEMBER_IN_ALIAS                   1378
#define ERROR_ALIAS_EXISTS                      1379
#define ERROR_LOGON_NOT_GRANTED                 1380
#define ERROR_TOO_MANY_SECRETS                  1381
#define ERROR_SECRET_TOO_LONG                   1382
#define ERROR_INTERNAL_DB_ERROR                 1383
#define ERROR_TOO_MANY_CONTEXT_IDS              1384
#define ERROR_LOGON_TYPE_NOT_GRANTED            1385
#define ERROR_NT_CROSS_ENCRYPTION_REQUIRED      1386
#define ERROR_LM_CROSS_ENCRYPTION_REQUIRED      1390
#define ERROR_MUTUAL_AUTH_FAILED                1397
#define ERROR_TIME_SKEW                         1398
#define ERROR_NO_SYSTEM_RESOURCES               1450
#define ERROR_INVALID_USER_BUFFER               1784
#define ERROR_NO_TRUST_LSA_SECRET               1786
#define ERROR_NO_TRUST_SAM_ACCOUNT              1787
#define ERROR_TRUSTED_DOMAIN_FAILURE            1788
#define ERROR_TRUSTED_RELATIONSHIP_FAILURE      1789
#define ERROR_TRUST_FAILURE                     1790
#define ERROR_NETLOGON_NOT_STARTED              1792
#define ERROR_ACCOUNT_EXPIRED                   1793
#define ERROR_NOLOGON_INTERDOMAIN_TRUST_ACCOUNT 1807
#define ERROR_NOLOGON_WORKSTATION_TRUST_ACCOUNT 1808
#define ERROR_NOLOGON_SERVER_TRUST_ACCOUNT      1809
#define ERROR_DOMAIN_TRUST_INCONSISTENT         1810
#define ERROR_NOT_ENOUGH_QUOTA                  1816
#define ERROR_PASSWORD_MUST_CHANGE              1907
#define ERROR_DOMAIN_CONTROLLER_NOT_FOUND       1908
#define ERROR_ACCOUNT_LOCKED_OUT                1909
#define ERROR_AUTHENTICATION_FIREWALL_FAILED    1935

/* ---- SECURITY_STATUS (an HRESULT): SEC_E_* fail, SEC_I_* succeed with more
 * to do ---- */
#define SEC_E_OK                            ((HRESULT)0x00000000L)
#define SEC_E_INSUFFICIENT_MEMORY           ((HRESULT)0x80090300L)
#define SEC_E_INVALID_HANDLE                ((HRESULT)0x80090301L)
#define SEC_E_UNSUPPORTED_FUNCTION          ((HRESULT)0x80090302L)
#define SEC_E_TARGET_UNKNOWN                ((HRESULT)0x80090303L)
#define SEC_E_INTERNAL_ERROR                ((HRESULT)0x80090304L)
#define SEC_E_SECPKG_NOT_FOUND              ((HRESULT)0x80090305L)
#define SEC_E_NOT_OWNER                     ((HRESULT)0x80090306L)
#define SEC_E_CANNOT_INSTALL                ((HRESULT)0x80090307L)
#define SEC_E_INVALID_TOKEN                 ((HRESULT)0x80090308L)
#define SEC_E_CANNOT_PACK                   ((HRESULT)0x80090309L)
#define SEC_E_QOP_NOT_SUPPORTED             ((HRESULT)0x8009030AL)
#define SEC_E_NO_IMPERSONATION              ((HRESULT)0x8009030BL)
#define SEC_E_LOGON_DENIED                  ((HRESULT)0x8009030CL)
#define SEC_E_UNKNOWN_CREDENTIALS           ((HRESULT)0x8009030DL)
#define SEC_E_NO_CREDENTIALS                ((HRESULT)0x8009030EL)
#define SEC_E_MESSAGE_ALTERED               ((HRESULT)0x8009030FL)
#define SEC_E_OUT_OF_SEQUENCE               ((HRESULT)0x80090310L)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY   ((HRESULT)0x80090311L)
#define SEC_I_CONTINUE_NEEDED               ((HRESULT)0x00090312L)
#define SEC_I_COMPLETE_NEEDED               ((HRESULT)0x00090313L)
#define SEC_I_COMPLETE_AND_CONTINUE         ((HRESULT)0x00090314L)
#define SEC_I_LOCAL_LOGON                   ((HRESULT)0x00090315L)
#define SEC_E_BAD_PKGID                     ((HRESULT)0x80090316L)
#define SEC_E_CONTEXT_EXPIRED               ((HRESULT)0x80090317L)
#define SEC_I_CONTEXT_EXPIRED               ((HRESULT)0x00090317L)
#define SEC_E_INCOMPLETE_MESSAGE            ((HRESULT)0x80090318L)
#define SEC_E_INCOMPLETE_CREDENTIALS        ((HRESULT)0x80090320L)
#define SEC_E_BUFFER_TOO_SMALL              ((HRESULT)0x80090321L)
#define SEC_I_INCOMPLETE_CREDENTIALS        ((HRESULT)0x00090320L)
#define SEC_I_RENEGOTIATE                   ((HRESULT)0x00090321L)
#define SEC_E_WRONG_PRINCIPAL               ((HRESULT)0x80090322L)
#define SEC_I_NO_LSA_CONTEXT                ((HRESULT)0x00090323L)
#define SEC_E_TIME_SKEW                     ((HRESULT)0x80090324L)
#define SEC_E_UNTRUSTED_ROOT                ((HRESULT)0x80090325L)
#define SEC_E_ILLEGAL_MESSAGE               ((HRESULT)0x80090326L)
#define SEC_E_CERT_UNKNOWN                  ((HRESULT)0x80090327L)
#define SEC_E_CERT_EXPIRED                  ((HRESULT)0x80090328L)
#define SEC_E_ENCRYPT_FAILURE               ((HRESULT)0x80090329L)
#define SEC_E_DECRYPT_FAILURE               ((HRESULT)0x80090330L)
#define SEC_E_ALGORITHM_MISMATCH            ((HRESULT)0x80090331L)
#define SEC_E_SECURITY_QOS_FAILED           ((HRESULT)0x80090332L)
#define SEC_E_UNFINISHED_CONTEXT_DELETED    ((HRESULT)0x80090333L)
#define SEC_E_NO_TGT_REPLY                  ((HRESULT)0x80090334L)
#define SEC_E_NO_IP_ADDRESSES               ((HRESULT)0x80090335L)
#define SEC_E_WRONG_CREDENTIAL_HANDLE       ((HRESULT)0x80090336L)
#define SEC_E_CRYPTO_SYSTEM_INVALID         ((HRESULT)0x80090337L)
#define SEC_E_MAX_REFERRALS_EXCEEDED        ((HRESULT)0x80090338L)
#define SEC_E_MUST_BE_KDC                   ((HRESULT)0x80090339L)
#define SEC_E_STRONG_CRYPTO_NOT_SUPPORTED   ((HRESULT)0x8009033AL)
#define SEC_E_TOO_MANY_PRINCIPALS           ((HRESULT)0x8009033BL)
#define SEC_E_NO_PA_DATA                    ((HRESULT)0x8009033CL)
#define SEC_E_PKINIT_NAME_MISMATCH          ((HRESULT)0x8009033DL)
#define SEC_E_SMARTCARD_LOGON_REQUIRED      ((HRESULT)0x8009033EL)
#define SEC_E_SHUTDOWN_IN_PROGRESS          ((HRESULT)0x8009033FL)
#define SEC_E_KDC_INVALID_REQUEST           ((HRESULT)0x80090340L)
#define SEC_E_KDC_UNABLE_TO_REFER           ((HRESULT)0x80090341L)
#define SEC_E_KDC_UNKNOWN_ETYPE             ((HRESULT)0x80090342L)
#define SEC_E_UNSUPPORTED_PREAUTH           ((HRESULT)0x80090343L)
#define SEC_E_DELEGATION_REQUIRED           ((HRESULT)0x80090345L)
#define SEC_E_BAD_BINDINGS                  ((HRESULT)0x80090346L)
#define SEC_E_MULTIPLE_ACCOUNTS             ((HRESULT)0x80090347L)
#define SEC_E_NO_KERB_KEY                   ((HRESULT)0x80090348L)
#define SEC_E_CERT_WRONG_USAGE              ((HRESULT)0x80090349L)
#define SEC_E_DOWNGRADE_DETECTED            ((HRESULT)0x80090350L)
#define SEC_E_SMARTCARD_CERT_REVOKED        ((HRESULT)0x80090351L)
#define SEC_E_ISSUING_CA_UNTRUSTED          ((HRESULT)0x80090352L)
#define SEC_E_REVOCATION_OFFLINE_C          ((HRESULT)0x80090353L)
#define SEC_E_PKINIT_CLIENT_FAILURE         ((HRESULT)0x80090354L)
#define SEC_E_SMARTCARD_CERT_EXPIRED        ((HRESULT)0x80090355L)
#define SEC_E_NO_S4U_PROT_SUPPORT           ((HRESULT)0x80090356L)
#define SEC_E_CROSSREALM_DELEGATION_FAILURE ((HRESULT)0x80090357L)
#define SEC_E_REVOCATION_OFFLINE_KDC        ((HRESULT)0x80090358L)
#define SEC_E_ISSUING_CA_UNTRUSTED_KDC      ((HRESULT)0x80090359L)
#define SEC_E_KDC_CERT_EXPIRED              ((HRESULT)0x8009035AL)
#define SEC_E_KDC_CERT_REVOKED              ((HRESULT)0x8009035BL)
#define SEC_I_SIGNATURE_NEEDED              ((HRESULT)0x0009035CL)
#define SEC_E_INVALID_PARAMETER             ((HRESULT)0x8009035DL)
#define SEC_E_DELEGATION_POLICY             ((HRESULT)0x8009035EL)
#define SEC_E_POLICY_NLTM_ONLY              ((HRESULT)0x8009035FL)
#define SEC_I_NO_RENEGOTIATION              ((HRESULT)0x00090360L)
#define SEC_E_NO_CONTEXT                    ((HRESULT)0x80090361L)
#define SEC_E_PKU2U_CERT_FAILURE            ((HRESULT)0x80090362L)
#define SEC_E_MUTUAL_AUTH_FAILED            ((HRESULT)0x80090363L)
#define SEC_E_ONLY_HTTPS_ALLOWED            ((HRESULT)0x80090365L)
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH ((HRESULT)0x80090367L)
/* Older names for the same codes. */
#define SEC_E_NOT_SUPPORTED                 SEC_E_UNSUPPORTED_FUNCTION
#define SEC_E_NO_SPM                        SEC_E_INTERNAL_ERROR

#endif
