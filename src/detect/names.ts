// The names model code gives its shape numbers, across Hugging Face, nanoGPT, Meta's reference code,
// DeepSeek, Mixtral and common config-driven code. The first name of a list that a class binds wins.
export const HEADS = [
  'num_heads',
  'num_attention_heads',
  'n_heads',
  'n_head',
  'nheads',
  'n_local_heads',
  'num_q_heads',
  'n_q_heads',
  'heads',
];
export const KV_HEADS = [
  'num_key_value_heads',
  'num_kv_heads',
  'n_kv_heads',
  'n_kv_head',
  'n_local_kv_heads',
  'kv_heads',
  'n_head_kv',
  'num_kv',
  'n_kv',
  'multi_query_group_num',
];
export const HIDDEN = [
  'hidden_size',
  'n_embd',
  'd_model',
  'embed_dim',
  'hidden_dim',
  'dim',
  'model_dim',
  'n_embed',
  'emb_dim',
];
export const HEAD_DIM = ['head_dim', 'head_size', 'd_head', 'dim_head'];
export const KV_RANK = ['kv_lora_rank', 'kv_rank', 'kv_latent_dim', 'kv_compress_dim'];
export const Q_RANK = ['q_lora_rank', 'q_rank', 'q_latent_dim'];
export const ROPE_DIM = ['qk_rope_head_dim', 'rope_head_dim', 'qk_rope_dim', 'rope_dim'];
export const WINDOW = ['sliding_window', 'window_size', 'attention_window', 'local_window', 'sliding_window_size'];
export const NSA_BLOCK = ['compress_block_size', 'block_size', 'cmp_block', 'selection_block_size'];
export const NSA_SELECTED = ['num_selected_blocks', 'selected_blocks', 'n_selected', 'num_selected', 'top_n'];
export const EXPERTS = [
  'num_experts',
  'num_local_experts',
  'n_routed_experts',
  'n_experts',
  'moe_num_experts',
  'num_experts_total',
];
export const TOP_K = [
  'num_experts_per_tok',
  'top_k',
  'n_activated_experts',
  'moe_top_k',
  'num_selected_experts',
  'experts_per_token',
  'topk',
];
export const SHARED = ['n_shared_experts', 'num_shared_experts'];
export const LAYERS = ['num_hidden_layers', 'n_layer', 'n_layers', 'num_layers'];
export const VOCAB = ['vocab_size', 'n_vocab', 'padded_vocab_size'];
/** The FFN's width where a config names it (DeepSeek-V3's dense `inter_dim`, GPT-2's `n_inner`). */
export const FFN = [
  'intermediate_size',
  'ffn_dim',
  'ffn_hidden_size',
  'd_ff',
  'dim_feedforward',
  'inter_dim',
  'n_inner',
];
/** The FFN's up projection, whose output width is the FFN's (nanoGPT, Meta, HF, GPT-NeoX). */
export const FFN_UP = ['c_fc', 'up_proj', 'w1', 'fc1', 'dense_h_to_4h', 'gate_proj'];

/** Every name above: a `name = literal` or `"name": literal` binding of one of them is a file constant. */
export const CONFIG_NAMES: readonly string[] = [
  ...new Set([
    ...HEADS,
    ...KV_HEADS,
    ...HIDDEN,
    ...HEAD_DIM,
    ...KV_RANK,
    ...Q_RANK,
    ...ROPE_DIM,
    ...WINDOW,
    ...NSA_BLOCK,
    ...NSA_SELECTED,
    ...EXPERTS,
    ...TOP_K,
    ...SHARED,
    ...LAYERS,
    ...VOCAB,
    ...FFN,
    'multiple_of',
    'ffn_dim_multiplier',
  ]),
];
