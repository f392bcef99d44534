/* SPDX-License-Identifier: MIT */
/*
 * A security package written the way one is written for Windows, with
 * <lsashm/windows.h> standing in for <windows.h>, <ntstatus.h>, <sspi.h>,
 * <ntsecapi.h> and <ntsecpkg.h>. The build (tests/windows-port) uses
 * -Wall -Wextra -Werror -fvisibility=hidden and links nothing: what it calls
 * comes from the headers, the function table, or lsashmd.
 *
 * It knows one user, alice, whose password is "wonderland".
 */
#include <lsashm/windows.h>

#include "winstyle-protocol.h"

static PLSA_SECPKG_FUNCTION_TABLE LsaTable;
static ULONG_PTR MyPackageId;
static ULONG VerifyCount;
static LUID FreshLuid;

static WCHAR PackageName[] = TEXT("WinStyle");
static WCHAR PackageComment[] = TEXT("A package written against the Windows headers");

static NTSTATUS NTAPI WsSpInitialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                     PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        UNREFERENCED_PARAMETER(Parameters);
        MyPackageId = PackageId;
        LsaTable = FunctionTable;
        if (!AllocateLocallyUniqueId(&FreshLuid))
                return STATUS_INTERNAL_ERROR;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI WsSpShutdown(VOID)
{
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI WsSpGetInfo(PSecPkgInfo PackageInfo)
{
        ZeroMemory(PackageInfo, sizeof(*PackageInfo));
        PackageInfo->fCapabilities = SECPKG_FLAG_LOGON | SECPKG_FLAG_CONNECTION;
        PackageInfo->wVersion = 1;
        PackageInfo->wRPCID = SECPKG_ID_NONE;
        PackageInfo->cbMaxToken = 0;
        PackageInfo->Name = PackageName;
        PackageInfo->Comment = PackageComment;
        return STATUS_SUCCESS;
}

/* A counted string inside the submit buffer: its client address rebased
 * onto our copy, refused unless it lies wholly inside. */
static BOOLEAN RebaseString(PUNICODE_STRING String, PVOID Submit, PVOID ClientBase, ULONG Length)
{
        ULONG_PTR Start = (ULONG_PTR)String->Buffer - (ULONG_PTR)ClientBase;
        if (String->Length % sizeof(WCHAR) || (ULONG_PTR)String->Buffer < (ULONG_PTR)ClientBase || Start > Length ||
            String->Length > Length - Start)
                return FALSE;
        String->Buffer = (PWSTR)((PUCHAR)Submit + Start);
        return TRUE;
}

static BOOLEAN EqualString(PCUNICODE_STRING A, PCUNICODE_STRING B)
{
        return A->Length == B->Length && RtlEqualMemory(A->Buffer, B->Buffer, A->Length);
}

static NTSTATUS VerifyPassword(PVOID Submit, PVOID ClientBase, ULONG Length)
{
        WINSTYLE_VERIFY_REQUEST Request;
        UNICODE_STRING Alice, Wonderland;
        WCHAR PasswordCopy[64];
        NTSTATUS Status;

        if (Length < sizeof(Request))
                return STATUS_INVALID_PARAMETER;
        RtlCopyMemory(&Request, Submit, sizeof(Request));
        if (!RebaseString(&Request.UserName, Submit, ClientBase, Length) ||
            !RebaseString(&Request.Password, Submit, ClientBase, Length) ||
            Request.Password.Length > sizeof(PasswordCopy))
                return STATUS_INVALID_PARAMETER;

        RtlInitUnicodeString(&Alice, TEXT("alice"));
        RtlInitUnicodeString(&Wonderland, TEXT("wonderland"));
        if (!EqualString(&Request.UserName, &Alice))
                return STATUS_NO_SUCH_USER;
        /* A private copy of the secret, wiped however we leave. */
        RtlCopyMemory(PasswordCopy, Request.Password.Buffer, Request.Password.Length);
        Request.Password.Buffer = PasswordCopy;
        Status = EqualString(&Request.Password, &Wonderland) ? STATUS_SUCCESS : STATUS_WRONG_PASSWORD;
        SecureZeroMemory(PasswordCopy, sizeof(PasswordCopy));
        if (NT_SUCCESS(Status))
                VerifyCount++;
        return Status;
}

/* The response and the name it points to, in one client buffer. */
typedef struct _INFO_REPLY {
        WINSTYLE_INFO_RESPONSE Response;
        WCHAR Name[ARRAYSIZE(PackageName)];
} INFO_REPLY;

static NTSTATUS QueryInfo(PLSA_CLIENT_REQUEST ClientRequest, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength)
{
        SECPKG_CLIENT_INFO ClientInfo;
        INFO_REPLY Reply;
        PVOID ClientBuffer = NULL;
        NTSTATUS Status;

        Status = LsaTable->GetClientInfo(&ClientInfo);
        if (!NT_SUCCESS(Status))
                return Status;
        ZeroMemory(&Reply, sizeof(Reply));
        Reply.Response.MessageType = WinStyleQueryInfo;
        Reply.Response.CallerLogonId = ClientInfo.LogonId;
        Reply.Response.FreshLuid = FreshLuid;
        Status = NtQuerySystemTime(&Reply.Response.SystemTime);
        if (!NT_SUCCESS(Status))
                return Status;
        Reply.Response.VerifyCount = VerifyCount;
        Reply.Response.CallerSessionStatus = LsaTable->CreateLogonSession(&ClientInfo.LogonId);
        Reply.Response.FreshSessionStatus = LsaTable->CreateLogonSession(&FreshLuid);
        if (NT_SUCCESS(Reply.Response.FreshSessionStatus))
                LsaTable->DeleteLogonSession(&FreshLuid);
        RtlCopyMemory(Reply.Name, PackageName, sizeof(PackageName));

        Status = LsaTable->AllocateClientBuffer(ClientRequest, sizeof(Reply), &ClientBuffer);
        if (!NT_SUCCESS(Status))
                return Status;
        /* The name's pointer is where the client will see it. */
        Reply.Response.PackageName.Length = (USHORT)(sizeof(PackageName) - sizeof(WCHAR));
        Reply.Response.PackageName.MaximumLength = (USHORT)sizeof(PackageName);
        Reply.Response.PackageName.Buffer = (PWSTR)((PUCHAR)ClientBuffer + FIELD_OFFSET(INFO_REPLY, Name));
        Status = LsaTable->CopyToClientBuffer(ClientRequest, sizeof(Reply), ClientBuffer, &Reply);
        if (!NT_SUCCESS(Status)) {
                LsaTable->FreeClientBuffer(ClientRequest, ClientBuffer);
                return Status;
        }
        *ProtocolReturnBuffer = ClientBuffer;
        *ReturnBufferLength = sizeof(Reply);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI WsCallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                             PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                             PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                             PNTSTATUS ProtocolStatus)
{
        ULONG MessageType;

        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        if (SubmitBufferLength < sizeof(ULONG))
                return STATUS_INVALID_PARAMETER;
        RtlCopyMemory(&MessageType, ProtocolSubmitBuffer, sizeof(MessageType));
        switch (MessageType) {
        case WinStyleVerifyPassword:
                *ProtocolStatus = VerifyPassword(ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength);
                return STATUS_SUCCESS;
        case WinStyleQueryInfo:
                *ProtocolStatus = QueryInfo(ClientRequest, ProtocolReturnBuffer, ReturnBufferLength);
                return STATUS_SUCCESS;
        default:
                return STATUS_INVALID_PARAMETER;
        }
}

/* An SSPI entry point the package does not support, answered as SSPI does. */
static NTSTATUS NTAPI WsQueryContextAttributes(LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute, PVOID Buffer)
{
        SECURITY_STATUS Result = SEC_E_OK;
        UNREFERENCED_PARAMETER(ContextHandle);
        UNREFERENCED_PARAMETER(Buffer);
        if (ContextAttribute != SECPKG_ATTR_SIZES)
                Result = SEC_E_UNSUPPORTED_FUNCTION;
        return Result;
}

static SECPKG_FUNCTION_TABLE Table = {
        .CallPackageUntrusted = WsCallPackageUntrusted,
        .Initialize = WsSpInitialize,
        .Shutdown = WsSpShutdown,
        .GetInfo = WsSpGetInfo,
        .QueryContextAttributes = WsQueryContextAttributes,
};

__declspec(dllexport) NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                             PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        LARGE_INTEGER Version;
        UNREFERENCED_PARAMETER(LsaVersion);
        Version.QuadPart = SECPKG_INTERFACE_VERSION;
        *PackageVersion = Version.LowPart;
        *ppTables = &Table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
