/* SPDX-License-Identifier: MIT */
/*
 * Microsoft's source annotations (SAL), which the SDK's security headers and
 * the packages written against them put on every parameter. They only
 * inform Microsoft's analyzer; here each expands to nothing.
 */
#ifndef LSASHM_SAL_H
#define LSASHM_SAL_H

#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(s)
#define _In_reads_opt_(s)
#define _In_reads_bytes_(s)
#define _In_reads_bytes_opt_(s)
#define _Out_
#define _Out_opt_
#define _Out_writes_(s)
#define _Out_writes_opt_(s)
#define _Out_writes_bytes_(s)
#define _Out_writes_bytes_opt_(s)
#define _Out_writes_bytes_to_(s, c)
#define _Out_writes_to_(s, c)
#define _Inout_
#define _Inout_opt_
#define _Inout_updates_(s)
#define _Inout_updates_bytes_(s)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(s)
#define _Deref_out_
#define _Deref_out_opt_
#define _Reserved_
#define _Pre_
#define _Post_
#define _Success_(expr)
#define _Check_return_
#define _Must_inspect_result_
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Field_size_(s)
#define _Field_size_bytes_(s)
#define _Field_size_bytes_opt_(s)
#define _Field_range_(min, max)
#define _When_(expr, annotes)
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Post_invalid_
#define _Null_terminated_
#define _Printf_format_string_
#define _Function_class_(name)
#define _IRQL_requires_(irql)
#define _IRQL_requires_max_(irql)
#define _Use_decl_annotations_

#endif
